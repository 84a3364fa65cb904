/** The point top-up contract: a one-step workflow that credits a user's balance. */

/** Input of `topUpPoints`: credit `amountPoints` (integer >= 1) to user `userId`. */
export interface TopUpInput {
  topUpId: string;
  userId: number;
  amountPoints: number;
}

/** Result of a top-up: the new balance, in points. */
export interface TopUpResult {
  topUpId: string;
  userId: number;
  amountPoints: number;
  balancePoints: number;
}
