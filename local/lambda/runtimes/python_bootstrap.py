"""The runtime of a Python function's execution environment, for the local gateway.

A process that loads the function's handler as Lambda's Python runtime interface client does
(aws-lambda-python-runtime-interface-client, awslambdaric/bootstrap.py: `module.function`, the module
imported from LAMBDA_TASK_ROOT, its failures as Runtime.ImportModuleError, Runtime.HandlerNotFound,
...), then takes invocations from Lambda's Runtime API (AWS_LAMBDA_RUNTIME_API) one at a time:
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

Before the handler's module is imported, botocore is told to send calls to AWS's hosts
(`*.amazonaws.com`) to the local gateway instead, however the code built its endpoint: the request
keeps its Host header and signature, only the connection goes to loopback. boto3 of any version
sends through botocore's URLLib3Session, so this covers Debian's python3-boto3 (1.26), older than
the AWS_ENDPOINT_URL_* variables (botocore 1.31).
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import sys
import time
import traceback
from urllib.parse import urlsplit, urlunsplit

API_HOST, API_PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
ENDPOINTS = json.loads(os.environ.get("_LOCAL_GATEWAY_ENDPOINTS", "{}"))


def local_endpoint(host):
    """Where a call to `host` goes instead, or None for a host that is not AWS's."""
    name = (host or "").lower()
    if not (name.endswith(".amazonaws.com") or name.endswith(".amazonaws.com.cn")):
        return None
    return ENDPOINTS.get("dynamodb") if name.startswith("dynamodb.") else ENDPOINTS.get("gateway")


def redirect_botocore():
    try:
        import botocore.httpsession
    except ImportError:
        return
    send = botocore.httpsession.URLLib3Session.send

    def send_locally(self, request):
        url = urlsplit(request.url)
        target = local_endpoint(url.hostname)
        if target:
            request.headers["Host"] = url.netloc
            request.url = urlunsplit((*urlsplit(target)[:2], url.path, url.query, url.fragment))
        return send(self, request)

    botocore.httpsession.URLLib3Session.send = send_locally


class LambdaContext:
    """The context object, field for field as awslambdaric/lambda_context.py has it."""

    def __init__(self, request_id, deadline_ms, function_arn):
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(message)


class RuntimeFault(Exception):
    """A failure the runtime names itself (Runtime.*)."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise RuntimeFault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise RuntimeFault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}")
    except SyntaxError as error:
        raise RuntimeFault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}")
    function = getattr(module, function_name, None)
    if function is None:
        raise RuntimeFault("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


def error_body(error, request_id=""):
    """awslambdaric's make_error: errorMessage, errorType, requestId, stackTrace."""
    error_type = error.error_type if isinstance(error, RuntimeFault) else type(error).__name__
    frames = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])
    return {"errorMessage": str(error), "errorType": error_type, "requestId": request_id, "stackTrace": frames}


class ResultEncoder(json.JSONEncoder):
    """Decimals (as boto3's DynamoDB resource returns numbers) as JSON numbers, as awslambdaric's marshaller writes them."""

    def default(self, value):
        if isinstance(value, decimal.Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        return super().default(value)


class Runtime:
    def __init__(self):
        self.connection = http.client.HTTPConnection(API_HOST, int(API_PORT))

    def call(self, method, path, body=None, headers=None):
        self.connection.request(method, "/2018-06-01" + path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response, response.read()

    def post_error(self, path, error, request_id=""):
        body = json.dumps(error_body(error, request_id)).encode()
        error_type = error_body(error)["errorType"]
        self.call("POST", path, body, {"Lambda-Runtime-Function-Error-Type": error_type})

    def loop(self, handler):
        while True:
            response, event = self.call("GET", "/runtime/invocation/next")
            request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
            os.environ["_X_AMZN_TRACE_ID"] = response.getheader("Lambda-Runtime-Trace-Id") or ""
            RequestIdFilter.request_id = request_id
            context = LambdaContext(
                request_id,
                int(response.getheader("Lambda-Runtime-Deadline-Ms")),
                response.getheader("Lambda-Runtime-Invoked-Function-Arn"),
            )
            try:
                result = json.dumps(handler(json.loads(event), context), cls=ResultEncoder).encode()
            except Exception as error:
                logging.getLogger().error("%s", "".join(traceback.format_exception(error)))
                self.post_error(f"/runtime/invocation/{request_id}/error", error, request_id)
                continue
            self.call("POST", f"/runtime/invocation/{request_id}/response", result)


class RequestIdFilter(logging.Filter):
    request_id = None

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


def configure_logging():
    """The root logger as Lambda's Python runtime sets it up: level, time, request id, message."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(RequestIdFilter())
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def main():
    configure_logging()
    redirect_botocore()
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    runtime = Runtime()
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except Exception as error:
        logging.getLogger().error("%s", error)
        runtime.post_error("/runtime/init/error", error)
        sys.exit(1)
    runtime.loop(handler)


if __name__ == "__main__":
    main()
