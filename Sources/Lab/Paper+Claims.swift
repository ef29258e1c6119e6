import Consensus
import Crowd
import Foundation
import Phantoms
import Randomness
import Reports

// The paper's 22 claims, each stated on the mean of what the experiments measured.

extension Paper {
    static func claim(_ id: String, _ text: String, paper: Double, simulated: Double, tolerance: Double, experiment: String, why: String,
                      holds: Bool? = nil) -> Claim {
        Claim(id: id, claim: text, paper: paper, simulated: simulated, tolerance: tolerance,
              holds: holds ?? (simulated.isFinite && abs(simulated - paper) <= tolerance), why: why, experiment: experiment)
    }

    static func claims(_ m: [Figure: Double], seeds: Int) -> [Claim] {
        func v(_ k: Figure) -> Double { m[k] ?? .nan }
        let mean = seeds > 1 ? " (mean of \(seeds) seeds)" : ""
        var c: [Claim] = []
        c.append(claim("fig1c_crowd_precision", "10 workers per transwell image, subtractive clustering: precision 0.99",
                       paper: 0.99, simulated: v(.twPrecision), tolerance: 0.02, experiment: "fig1c-transwell" + mean,
                       why: "A false click is kept only when several workers make it at the same place, which almost never happens by chance."))
        c.append(claim("fig1c_crowd_recall", "10 workers per transwell image, subtractive clustering: recall 0.81",
                       paper: 0.81, simulated: v(.twRecall), tolerance: 0.08, experiment: "fig1c-transwell" + mean,
                       why: "Cells most workers miss (dim, or touching another) are also missed by the consensus."))
        c.append(claim("fig1c_workers_beating_threshold_pipeline", "27 of 46 workers (59 %) beat the threshold-watershed-size pipeline in precision and recall (each on the images they annotated)",
                       paper: 0.59, simulated: v(.beatingShare), tolerance: 0.15, experiment: "fig1c-transwell" + mean,
                       why: "Pores look like small dim cells to a size filter; people tell them apart by shape and context."))
        c.append(claim("fig1c_filtered_crowd_vs_experts", "dropping the bottom third by the worker score makes the crowd indistinguishable from 5 experts (F1 difference)",
                       paper: 0, simulated: v(.filteredMinusExpertsF1), tolerance: 0.05, experiment: "fig1c-transwell" + mean,
                       why: "The worker score finds the rare careless workers; without them the crowd's errors are as rare as an expert group's."))
        c.append(claim("fig1d_fp_rate_first_annotations", "false-positive rate per annotation starts near 3.7 %",
                       paper: 0.037, simulated: v(.fpFirst), tolerance: 0.02, experiment: "fig1c-transwell" + mean,
                       why: "New workers click things that look like objects until the first images teach them what counts."))
        c.append(claim("fig1d_fp_rate_at_50", "and falls about linearly to 1.3 % by the 50th annotation",
                       paper: 0.013, simulated: v(.fpAt50), tolerance: 0.015, experiment: "fig1c-transwell" + mean,
                       why: "Learning is quick: by 50 annotations most workers have seen what the task wants."))
        c.append(claim("fig1e_median_click_period_s", "median click period about 2 s",
                       paper: 2.0, simulated: v(.medianPeriod), tolerance: 0.6, experiment: "fig1c-transwell" + mean,
                       why: "Aiming at a 3 px target a few tens of pixels away takes about two seconds by Fitts' law."))
        c.append(claim("fig1e_median_rmse_px", "median worker RMSE about 3 px",
                       paper: 3.0, simulated: v(.medianRmse), tolerance: 1.0, experiment: "fig1c-transwell" + mean,
                       why: "People point to within about a cell radius of its centre."))
        c.append(claim("fig1e_fitts_slope", "slower workers are more accurate (Fitts' slope b > 0, s per bit)",
                       paper: 0.5, simulated: v(.fittsB), tolerance: 0.5, experiment: "fig1c-transwell" + mean,
                       why: "Fitts' law: halving the error costs a fixed extra time per click.", holds: v(.fittsB) > 0))
        c.append(claim("fig1f_annotations_vs_rmse", "workers who annotate more choose larger RMSE (rank correlation over workers with 50+ annotations > 0), all under 13 px",
                       paper: 0.3, simulated: v(.rhoAnnotationsRmse), tolerance: 0.3, experiment: "fig1c-transwell" + mean,
                       why: "Busy workers trade accuracy for speed, but nobody is careless enough to leave 13 px.",
                       holds: v(.rhoAnnotationsRmse) > 0 && v(.maxRmse) < 13))
        c.append(claim("s1_group_size_plateau", "the crowd's advantage is reached with groups of 3 (F1 of 3 workers minus F1 of 10)",
                       paper: 0, simulated: v(.f3MinusF10), tolerance: 0.05, experiment: "fig1c-transwell, groups of k drawn from it" + mean,
                       why: "Poor workers are rare, so two good workers out of three already outvote one poor one.",
                       holds: abs(v(.f3MinusF10)) <= 0.05 && v(.f3MinusF1) > 0))
        c.append(claim("s2_top20_share_of_images", "about 20 % of workers do about 80 % of the images",
                       paper: 0.8, simulated: v(.top20), tolerance: 0.1, experiment: "s2-participation" + mean,
                       why: "Activity on Mechanical Turk follows a Pareto law: a few workers make it their job."))
        c.append(claim("s3_tolerated_annotations_at_2c", "about 60 annotations per image tolerated at 2 cents per image",
                       paper: 60, simulated: v(.tolerated), tolerance: 30, experiment: "s3-complexity" + mean,
                       why: "Below that, the pay per click is worth a worker's time; above it, they leave sooner."))
        c.append(claim("s3_images_attempted_drop", "above that, images attempted per worker fall from 15 to 8 (ratio)",
                       paper: 8.0 / 15.0, simulated: v(.imagesRatio), tolerance: 0.2, experiment: "s3-complexity" + mean,
                       why: "A worker's patience is counted in clicks, so fewer big images fit in it."))
        c.append(claim("s3_recall_above_110", "recall falls from above 0.8 to about 0.6 above 110 objects per image",
                       paper: 0.6, simulated: v(.recall150), tolerance: 0.1, experiment: "s3-complexity" + mean,
                       why: "Underpaid workers click only part of what they see on crowded images.",
                       holds: abs(v(.recall150) - 0.6) <= 0.1 && v(.recall30) > 0.8))
        c.append(claim("s3_rate_drop", "collection rate falls from above 25,000 to about 3,000 annotations an hour (ratio)",
                       paper: 3000.0 / 25000.0, simulated: v(.rateRatio), tolerance: 0.1, experiment: "s3-complexity" + mean,
                       why: "Fewer workers take underpaid HITs and those who do stop earlier."))
        c.append(claim("s3_pay_reverses_losses", "higher pay per image broadly reverses the losses in recall and rate (recall gain at 150 objects, 6 vs 2 cents)",
                       paper: 0.2, simulated: v(.payRecallGain), tolerance: 0.2, experiment: "s3-complexity" + mean,
                       why: "Pay raises the annotations a worker tolerates and brings more workers.",
                       holds: v(.payRecallGain) > 0 && v(.payRateGain) > 1))
        c.append(claim("headline_rate_110_at_6c", "about 100,000 annotations an hour for 110-object images at 6 cents per image",
                       paper: 100_000, simulated: v(.rate110At6c), tolerance: 50_000, experiment: "s3-complexity" + mean,
                       why: "Hundreds of workers clicking every two seconds at once."))
        c.append(claim("fig2d_crowd_trained_vs_expert_trained", "an FCRN trained on the consensus of 10 workers scores within 0.05 of one trained on the expert's labels (F 0.68 against 0.71: difference)",
                       paper: 0.68 - 0.71, simulated: v(.fcrnCrowdF) - v(.fcrnExpertF), tolerance: 0.05, experiment: "fig2d-nuclei" + mean,
                       why: "The consensus finds nearly every nucleus the expert marks, and the network learns what a nucleus looks like from either.",
                       holds: abs(v(.fcrnCrowdF) - v(.fcrnExpertF)) <= 0.05))
        c.append(claim("fig2d_both_beat_otsu", "both detectors beat Otsu thresholding (F 0.62): the smaller F less Otsu's",
                       paper: 0.68 - 0.62, simulated: min(v(.fcrnCrowdF), v(.fcrnExpertF)) - v(.otsuF), tolerance: 0.06, experiment: "fig2d-nuclei" + mean,
                       why: "A threshold cannot separate touching nuclei or find the dimly stained ones; a trained network does both.",
                       holds: min(v(.fcrnCrowdF), v(.fcrnExpertF)) > v(.otsuF)))
        c.append(claim("s4_crowd_trained_beats_single_workers", "trained on single workers' labels the detector does worse, mostly in recall (crowd-trained recall gain)",
                       paper: 0.1, simulated: v(.fcrnCrowdRecall) - v(.fcrnSingleRecall), tolerance: 0.1, experiment: "fig2d-nuclei" + mean,
                       why: "One worker clicks only part of the nuclei, and the network learns that the rest are background.",
                       holds: v(.fcrnCrowdF) > v(.fcrnSingleF) && v(.fcrnCrowdRecall) - v(.fcrnSingleRecall) > v(.fcrnCrowdPrecision) - v(.fcrnSinglePrecision)))
        c.append(claim("headline_cost_vs_expert", "the crowd costs about 30x less than one expert for the same annotations (cost ratio)",
                       paper: 30, simulated: v(.expertCostRatio), tolerance: 20, experiment: "s3-complexity" + mean,
                       why: "Two cents an image against an expert's hourly wage; the crowd also works in parallel (about 50x faster)."))
        return c
    }
}
