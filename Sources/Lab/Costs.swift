import Foundation

/// What Mechanical Turk charges a requester: the reward, plus a fee of 20 % of rewards and
/// bonuses (at least $0.01 per assignment or bonus), plus another 20 % of the reward for HITs with
/// 10 or more assignments.
public enum TurkFees {
    public static func feePerAssignment(reward: Double, assignmentsPerHIT: Int) -> Double {
        max(0.01, 0.2 * reward) + (assignmentsPerHIT >= 10 ? 0.2 * reward : 0)
    }

    /// Cost of a job: `images` HITs with `replicates` assignments each at `reward` per assignment.
    public static func jobCost(images: Int, replicates: Int, reward: Double) -> (rewards: Double, fees: Double, total: Double) {
        let n = Double(images * replicates)
        let rewards = n * reward
        let fees = n * feePerAssignment(reward: reward, assignmentsPerHIT: replicates)
        return (rewards, fees, rewards + fees)
    }

}
