# Architect's manifest of the benchmark's app: connect, disconnect and default are implied.
@app
wsbench

@ws
sendmessage

@aws
runtime nodejs20.x
region us-east-1
