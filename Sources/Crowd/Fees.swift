import Foundation

/// What Mechanical Turk charges a requester on top of a reward or bonus: 20 % of it, plus another
/// 20 % of rewards for HITs with 10 or more assignments, at least $0.01 per assignment or bonus.
/// Kept in whole cents, rounded half up, as a per-payment charge must be.
public enum TurkFees {
    public static func feeCents(rewardCents: Int, assignmentsPerHIT: Int) -> Int {
        let rate = assignmentsPerHIT >= 10 ? 40 : 20
        return max(1, (rewardCents * rate + 50) / 100)
    }

    public static func bonusFeeCents(_ bonusCents: Int) -> Int { max(1, (bonusCents * 20 + 50) / 100) }

    /// In dollars, for planning: the fee on one assignment of a HIT paying `reward`.
    public static func feePerAssignment(reward: Double, assignmentsPerHIT: Int) -> Double {
        Double(feeCents(rewardCents: Int((reward * 100).rounded()), assignmentsPerHIT: assignmentsPerHIT)) / 100
    }

    /// Cost of a job: `images` HITs with `replicates` assignments each at `reward` per assignment.
    public static func jobCost(images: Int, replicates: Int, reward: Double) -> (rewards: Double, fees: Double, total: Double) {
        let n = Double(images * replicates)
        let rewards = n * reward
        let fees = n * feePerAssignment(reward: reward, assignmentsPerHIT: replicates)
        return (rewards, fees, rewards + fees)
    }
}
