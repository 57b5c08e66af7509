/** The budgets a stack deploys when it sets none, pinned by value: what the tests hold the defaults to. */
export const DEFAULT_RATE_LIMITS = {
  messages: { perUser: 20, perAddress: 100, seconds: 10 },
  reads: { perUser: 20, perAddress: 100, seconds: 10 },
  typing: { perUser: 2, perAddress: 20, seconds: 6 },
  presence: { perUser: 5, perAddress: 50, seconds: 60 },
  connects: { perAddress: 300, seconds: 60 },
  tokens: { perAddress: 20, seconds: 60 },
  connectionsPerUser: 10,
};
