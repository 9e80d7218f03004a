// Subscription plans and their concurrent-stream limits.

export const PLANS = { basic: 1, standard: 2, premium: 4 } as const;
export type PlanName = keyof typeof PLANS;

export function streamLimit(plan: string): number {
  return Object.hasOwn(PLANS, plan) ? PLANS[plan as PlanName] : 1;
}
