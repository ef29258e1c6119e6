import Foundation

// The Mechanical Turk requester API's shapes (service `mturk-requester`, version 2017-01-17), with
// the field names, types and enumerations of the service's own model (botocore's
// `data/mturk/2017-01-17/service-2.json`). Timestamps travel as seconds since 1970, as in every
// AWS JSON-protocol service; money as a decimal string in dollars ("0.05").

/// A HIT's state: open for work, full, done and waiting for review, under review, or deleted.
public enum HITStatus: String, Codable, Sendable { case Assignable, Unassignable, Reviewable, Reviewing, Disposed }
/// The requester's own review mark on a HIT.
public enum HITReviewStatus: String, Codable, Sendable { case NotReviewed, MarkedForReview, ReviewedAppropriate, ReviewedInappropriate }
/// A submitted assignment's state; work under way is not an assignment until submitted.
public enum AssignmentStatus: String, Codable, Sendable, CaseIterable { case Submitted, Approved, Rejected }

/// A country (ISO 3166) and optional subdivision, for locale qualifications.
public struct TurkLocale: Codable, Sendable, Equatable {
    public var Country: String
    public var Subdivision: String?
}

/// What a worker must hold to see or accept a HIT.
public struct QualificationRequirement: Codable, Sendable, Equatable {
    public var QualificationTypeId: String
    /// LessThan, LessThanOrEqualTo, GreaterThan, GreaterThanOrEqualTo, EqualTo, NotEqualTo, Exists, DoesNotExist, In, NotIn
    public var Comparator: String
    public var IntegerValues: [Int]?
    public var LocaleValues: [TurkLocale]?
    public var RequiredToPreview: Bool?
    public var ActionsGuarded: String?
    public init(QualificationTypeId: String, Comparator: String, IntegerValues: [Int]? = nil) {
        self.QualificationTypeId = QualificationTypeId; self.Comparator = Comparator; self.IntegerValues = IntegerValues
    }
}

/// A HIT as the service describes it: its question, reward, limits and counts of assignments.
public struct HIT: Codable, Sendable, Equatable {
    public var HITId: String
    public var HITTypeId: String
    public var HITGroupId: String?
    public var HITLayoutId: String?
    public var CreationTime: Double
    public var Title: String
    public var Description: String
    public var Question: String?
    public var Keywords: String?
    public var HITStatus: HITStatus
    public var MaxAssignments: Int
    public var Reward: String
    public var AutoApprovalDelayInSeconds: Int
    public var Expiration: Double
    public var AssignmentDurationInSeconds: Int
    public var RequesterAnnotation: String?
    public var QualificationRequirements: [QualificationRequirement]?
    public var HITReviewStatus: HITReviewStatus
    public var NumberOfAssignmentsPending: Int
    public var NumberOfAssignmentsAvailable: Int
    public var NumberOfAssignmentsCompleted: Int
}

/// One worker's assignment of a HIT, with the answer once submitted.
public struct HITAssignment: Codable, Sendable, Equatable {
    public var AssignmentId: String
    public var WorkerId: String
    public var HITId: String
    public var AssignmentStatus: AssignmentStatus
    public var AutoApprovalTime: Double?
    public var AcceptTime: Double?
    public var SubmitTime: Double?
    public var ApprovalTime: Double?
    public var RejectionTime: Double?
    public var Deadline: Double?
    public var Answer: String?
    public var RequesterFeedback: String?
}

/// A bonus paid to a worker for an assignment.
public struct BonusPayment: Codable, Sendable, Equatable {
    public var WorkerId: String
    public var BonusAmount: String
    public var AssignmentId: String
    public var Reason: String
    public var GrantTime: Double
}

/// A qualification requesters define and grant (here: scores from earlier jobs).
public struct QualificationType: Codable, Sendable, Equatable {
    public var QualificationTypeId: String
    public var CreationTime: Double
    public var Name: String
    public var Description: String
    public var Keywords: String?
    public var QualificationTypeStatus: String
    public var Test: String?
    public var TestDurationInSeconds: Int?
    public var AnswerKey: String?
    public var RetryDelayInSeconds: Int?
    public var IsRequestable: Bool?
    public var AutoGranted: Bool?
    public var AutoGrantedValue: Int?
}

/// A worker barred from the requester's HITs, with the reason.
public struct WorkerBlock: Codable, Sendable, Equatable {
    public var WorkerId: String
    public var Reason: String?
}

/// A worker an e-mail could not reach, and why.
public struct NotifyWorkersFailureStatus: Codable, Sendable, Equatable {
    public var NotifyWorkersFailureCode: String?
    public var NotifyWorkersFailureMessage: String?
    public var WorkerId: String?
}

// MARK: operations

/// One API operation: its wire name, request and response.
public protocol TurkOperation: Codable, Sendable {
    associatedtype Response: Codable & Sendable
    static var name: String { get }
}

/// Operations that answer with an empty object.
public struct Empty: Codable, Sendable, Equatable { public init() {} }

/// The requester's available balance and what is held for open work.
public struct GetAccountBalance: TurkOperation {
    public static let name = "GetAccountBalance"
    public init() {}
    public struct Response: Codable, Sendable { public var AvailableBalance: String?; public var OnHoldBalance: String? }
}

/// Registers the properties HITs can share (reward, title, durations, qualifications).
public struct CreateHITType: TurkOperation {
    public static let name = "CreateHITType"
    public var AutoApprovalDelayInSeconds: Int?
    public var AssignmentDurationInSeconds: Int
    public var Reward: String
    public var Title: String
    public var Keywords: String?
    public var Description: String
    public var QualificationRequirements: [QualificationRequirement]?
    public init(reward: String, title: String, description: String, assignmentDurationInSeconds: Int = 3600,
                autoApprovalDelayInSeconds: Int? = nil, keywords: String? = nil, qualificationRequirements: [QualificationRequirement]? = nil) {
        Reward = reward; Title = title; Description = description; AssignmentDurationInSeconds = assignmentDurationInSeconds
        AutoApprovalDelayInSeconds = autoApprovalDelayInSeconds; Keywords = keywords; QualificationRequirements = qualificationRequirements
    }
    public struct Response: Codable, Sendable { public var HITTypeId: String? }
}

/// Posts a HIT with its question; a UniqueRequestToken makes a retry safe.
public struct CreateHIT: TurkOperation {
    public static let name = "CreateHIT"
    public var MaxAssignments: Int?
    public var AutoApprovalDelayInSeconds: Int?
    public var LifetimeInSeconds: Int
    public var AssignmentDurationInSeconds: Int
    public var Reward: String
    public var Title: String
    public var Keywords: String?
    public var Description: String
    public var Question: String?
    public var RequesterAnnotation: String?
    public var QualificationRequirements: [QualificationRequirement]?
    public var UniqueRequestToken: String?
    public init(maxAssignments: Int, lifetimeInSeconds: Int, assignmentDurationInSeconds: Int, reward: String, title: String,
                description: String, question: String, requesterAnnotation: String? = nil, uniqueRequestToken: String? = nil,
                autoApprovalDelayInSeconds: Int? = nil, keywords: String? = nil, qualificationRequirements: [QualificationRequirement]? = nil) {
        MaxAssignments = maxAssignments; LifetimeInSeconds = lifetimeInSeconds; AssignmentDurationInSeconds = assignmentDurationInSeconds
        Reward = reward; Title = title; Description = description; Question = question; RequesterAnnotation = requesterAnnotation
        UniqueRequestToken = uniqueRequestToken; AutoApprovalDelayInSeconds = autoApprovalDelayInSeconds; Keywords = keywords
        QualificationRequirements = qualificationRequirements
    }
    public struct Response: Codable, Sendable { public var HIT: HIT? }
}

/// Posts a HIT of an existing HIT type.
public struct CreateHITWithHITType: TurkOperation {
    public static let name = "CreateHITWithHITType"
    public var HITTypeId: String
    public var MaxAssignments: Int?
    public var LifetimeInSeconds: Int
    public var Question: String?
    public var RequesterAnnotation: String?
    public var UniqueRequestToken: String?
    public init(hitTypeId: String, maxAssignments: Int, lifetimeInSeconds: Int, question: String,
                requesterAnnotation: String? = nil, uniqueRequestToken: String? = nil) {
        HITTypeId = hitTypeId; MaxAssignments = maxAssignments; LifetimeInSeconds = lifetimeInSeconds; Question = question
        RequesterAnnotation = requesterAnnotation; UniqueRequestToken = uniqueRequestToken
    }
    public typealias Response = CreateHIT.Response
}

/// One HIT by id.
public struct GetHIT: TurkOperation {
    public static let name = "GetHIT"
    public var HITId: String
    public init(hitId: String) { HITId = hitId }
    public typealias Response = CreateHIT.Response
}

/// The requester's HITs, a page at a time.
public struct ListHITs: TurkOperation {
    public static let name = "ListHITs"
    public var NextToken: String?
    public var MaxResults: Int?
    public init(nextToken: String? = nil, maxResults: Int? = nil) { NextToken = nextToken; MaxResults = maxResults }
    public struct Response: Codable, Sendable { public var NextToken: String?; public var NumResults: Int?; public var HITs: [HIT]? }
}

/// HITs whose assignments are all submitted (or that expired), a page at a time.
public struct ListReviewableHITs: TurkOperation {
    public static let name = "ListReviewableHITs"
    public var HITTypeId: String?
    public var Status: String?
    public var NextToken: String?
    public var MaxResults: Int?
    public init(hitTypeId: String? = nil, status: String? = nil, nextToken: String? = nil, maxResults: Int? = nil) {
        HITTypeId = hitTypeId; Status = status; NextToken = nextToken; MaxResults = maxResults
    }
    public typealias Response = ListHITs.Response
}

/// Marks a HIT as under review, or back.
public struct UpdateHITReviewStatus: TurkOperation {
    public static let name = "UpdateHITReviewStatus"
    public var HITId: String
    public var Revert: Bool?
    public init(hitId: String, revert: Bool? = nil) { HITId = hitId; Revert = revert }
    public typealias Response = Empty
}

/// Moves a HIT's expiration (to the past to stop it, to the future to reopen it).
public struct UpdateExpirationForHIT: TurkOperation {
    public static let name = "UpdateExpirationForHIT"
    public var HITId: String
    public var ExpireAt: Double
    public init(hitId: String, expireAt: Double) { HITId = hitId; ExpireAt = expireAt }
    public typealias Response = Empty
}

/// Deletes a HIT that is done or expired and reviewed.
public struct DeleteHIT: TurkOperation {
    public static let name = "DeleteHIT"
    public var HITId: String
    public init(hitId: String) { HITId = hitId }
    public typealias Response = Empty
}

/// Adds assignments to a HIT (not past 9 for a HIT created with fewer than 10); a UniqueRequestToken makes a retry add nothing.
public struct CreateAdditionalAssignmentsForHIT: TurkOperation {
    public static let name = "CreateAdditionalAssignmentsForHIT"
    public var HITId: String
    public var NumberOfAdditionalAssignments: Int
    public var UniqueRequestToken: String?
    public init(hitId: String, number: Int, uniqueRequestToken: String? = nil) {
        HITId = hitId; NumberOfAdditionalAssignments = number; UniqueRequestToken = uniqueRequestToken
    }
    public typealias Response = Empty
}

/// A HIT's submitted assignments, filtered by status, a page at a time.
public struct ListAssignmentsForHIT: TurkOperation {
    public static let name = "ListAssignmentsForHIT"
    public var HITId: String
    public var NextToken: String?
    public var MaxResults: Int?
    public var AssignmentStatuses: [AssignmentStatus]?
    public init(hitId: String, statuses: [AssignmentStatus]? = nil, nextToken: String? = nil, maxResults: Int? = nil) {
        HITId = hitId; AssignmentStatuses = statuses; NextToken = nextToken; MaxResults = maxResults
    }
    public struct Response: Codable, Sendable { public var NextToken: String?; public var NumResults: Int?; public var Assignments: [HITAssignment]? }
}

/// One assignment and its HIT.
public struct GetAssignment: TurkOperation {
    public static let name = "GetAssignment"
    public var AssignmentId: String
    public init(assignmentId: String) { AssignmentId = assignmentId }
    public struct Response: Codable, Sendable { public var Assignment: HITAssignment?; public var HIT: HIT? }
}

/// Approves a submitted assignment (or overrides a rejection): the worker is paid.
public struct ApproveAssignment: TurkOperation {
    public static let name = "ApproveAssignment"
    public var AssignmentId: String
    public var RequesterFeedback: String?
    public var OverrideRejection: Bool?
    public init(assignmentId: String, feedback: String? = nil, overrideRejection: Bool? = nil) {
        AssignmentId = assignmentId; RequesterFeedback = feedback; OverrideRejection = overrideRejection
    }
    public typealias Response = Empty
}

/// Rejects a submitted assignment with feedback: the worker is not paid.
public struct RejectAssignment: TurkOperation {
    public static let name = "RejectAssignment"
    public var AssignmentId: String
    public var RequesterFeedback: String
    public init(assignmentId: String, feedback: String) { AssignmentId = assignmentId; RequesterFeedback = feedback }
    public typealias Response = Empty
}

/// Pays a worker a bonus for an assignment; a UniqueRequestToken makes a retry pay nothing.
public struct SendBonus: TurkOperation {
    public static let name = "SendBonus"
    public var WorkerId: String
    public var BonusAmount: String
    public var AssignmentId: String
    public var Reason: String
    public var UniqueRequestToken: String?
    public init(workerId: String, bonusAmount: String, assignmentId: String, reason: String, uniqueRequestToken: String? = nil) {
        WorkerId = workerId; BonusAmount = bonusAmount; AssignmentId = assignmentId; Reason = reason; UniqueRequestToken = uniqueRequestToken
    }
    public typealias Response = Empty
}

/// Bonuses paid for a HIT or an assignment.
public struct ListBonusPayments: TurkOperation {
    public static let name = "ListBonusPayments"
    public var HITId: String?
    public var AssignmentId: String?
    public var NextToken: String?
    public var MaxResults: Int?
    public init(hitId: String? = nil, assignmentId: String? = nil, nextToken: String? = nil, maxResults: Int? = nil) {
        HITId = hitId; AssignmentId = assignmentId; NextToken = nextToken; MaxResults = maxResults
    }
    public struct Response: Codable, Sendable { public var NumResults: Int?; public var NextToken: String?; public var BonusPayments: [BonusPayment]? }
}

/// Defines a qualification type.
public struct CreateQualificationType: TurkOperation {
    public static let name = "CreateQualificationType"
    public var Name: String
    public var Keywords: String?
    public var Description: String
    public var QualificationTypeStatus: String
    public var RetryDelayInSeconds: Int?
    public var Test: String?
    public var AnswerKey: String?
    public var TestDurationInSeconds: Int?
    public var AutoGranted: Bool?
    public var AutoGrantedValue: Int?
    public init(name: String, description: String, status: String = "Active") {
        Name = name; Description = description; QualificationTypeStatus = status
    }
    public struct Response: Codable, Sendable { public var QualificationType: QualificationType? }
}

/// One qualification type by id.
public struct GetQualificationType: TurkOperation {
    public static let name = "GetQualificationType"
    public var QualificationTypeId: String
    public init(id: String) { QualificationTypeId = id }
    public typealias Response = CreateQualificationType.Response
}

/// Qualification types whose name or description holds `Query`; the caller's own when
/// `MustBeOwnedByCaller` (how a job finds the score type an earlier job made).
public struct ListQualificationTypes: TurkOperation {
    public static let name = "ListQualificationTypes"
    public var Query: String?
    public var MustBeRequestable: Bool
    public var MustBeOwnedByCaller: Bool?
    public var NextToken: String?
    public var MaxResults: Int?
    public init(query: String? = nil, mustBeRequestable: Bool = false, mustBeOwnedByCaller: Bool? = true, nextToken: String? = nil, maxResults: Int? = nil) {
        Query = query; MustBeRequestable = mustBeRequestable; MustBeOwnedByCaller = mustBeOwnedByCaller; NextToken = nextToken; MaxResults = maxResults
    }
    public struct Response: Codable, Sendable {
        public var NumResults: Int?; public var NextToken: String?; public var QualificationTypes: [QualificationType]?
    }
}

/// Grants a worker a qualification with an integer value.
public struct AssociateQualificationWithWorker: TurkOperation {
    public static let name = "AssociateQualificationWithWorker"
    public var QualificationTypeId: String
    public var WorkerId: String
    public var IntegerValue: Int?
    public var SendNotification: Bool?
    public init(qualificationTypeId: String, workerId: String, integerValue: Int? = nil) {
        QualificationTypeId = qualificationTypeId; WorkerId = workerId; IntegerValue = integerValue
    }
    public typealias Response = Empty
}

/// Bars a worker from the requester's HITs.
public struct CreateWorkerBlock: TurkOperation {
    public static let name = "CreateWorkerBlock"
    public var WorkerId: String
    public var Reason: String
    public init(workerId: String, reason: String) { WorkerId = workerId; Reason = reason }
    public typealias Response = Empty
}

/// The workers barred, a page at a time.
public struct ListWorkerBlocks: TurkOperation {
    public static let name = "ListWorkerBlocks"
    public var NextToken: String?
    public var MaxResults: Int?
    public init(nextToken: String? = nil, maxResults: Int? = nil) { NextToken = nextToken; MaxResults = maxResults }
    public struct Response: Codable, Sendable { public var NextToken: String?; public var NumResults: Int?; public var WorkerBlocks: [WorkerBlock]? }
}

/// Lifts a worker's block.
public struct DeleteWorkerBlock: TurkOperation {
    public static let name = "DeleteWorkerBlock"
    public var WorkerId: String
    public var Reason: String?
    public init(workerId: String, reason: String? = nil) { WorkerId = workerId; Reason = reason }
    public typealias Response = Empty
}

/// Sends workers an e-mail.
public struct NotifyWorkers: TurkOperation {
    public static let name = "NotifyWorkers"
    public var Subject: String
    public var MessageText: String
    public var WorkerIds: [String]
    public init(subject: String, message: String, workerIds: [String]) { Subject = subject; MessageText = message; WorkerIds = workerIds }
    public struct Response: Codable, Sendable { public var NotifyWorkersFailureStatuses: [NotifyWorkersFailureStatus]? }
}

/// An error as the service returns it: `{"__type": "RequestError", "Message": ..., "TurkErrorCode": ...}`
/// for the API's own errors, or the AWS-wide types (`InvalidSignatureException`, ...) with `message`.
public struct TurkError: Error, CustomStringConvertible, Sendable, Equatable {
    public var type: String
    public var message: String
    public var turkErrorCode: String?
    /// HTTP status: 400 for client errors, 500 for ServiceFault.
    public var status: Int

    public init(type: String, message: String, turkErrorCode: String? = nil, status: Int = 400) {
        self.type = type; self.message = message; self.turkErrorCode = turkErrorCode; self.status = status
    }

    public static func request(_ message: String, code: String? = nil) -> TurkError {
        TurkError(type: "RequestError", message: message, turkErrorCode: code)
    }

    public var description: String { "\(type): \(message)" }

    /// The body the service sends.
    public var body: [UInt8] {
        var o: [String: String] = ["__type": type]
        if type == "RequestError" || type == "ServiceFault" {
            o["Message"] = message
            if let turkErrorCode { o["TurkErrorCode"] = turkErrorCode }
        } else {
            o["message"] = message
        }
        return Array((try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])) ?? Data())
    }

    /// Reads an error body; the type may carry a namespace prefix (`com.amazon...#RequestError`).
    public static func parse(body: [UInt8], status: Int) -> TurkError {
        let o = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        var type = (o["__type"] as? String) ?? (status >= 500 ? "ServiceFault" : "UnknownError")
        if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
        let message = (o["Message"] as? String) ?? (o["message"] as? String) ?? String(decoding: body, as: UTF8.self)
        return TurkError(type: type, message: message, turkErrorCode: o["TurkErrorCode"] as? String, status: status)
    }
}

/// Dollars as the service writes them ("10000.00") from whole cents, and back.
public enum Money {
    public static func string(cents: Int) -> String {
        let sign = cents < 0 ? "-" : ""
        let a = abs(cents)
        return "\(sign)\(a / 100).\(a % 100 < 10 ? "0" : "")\(a % 100)"
    }

    /// Parses "0.05", "1", "1.5"; nil for anything else (more than two decimals, signs, letters).
    public static func cents(_ s: String) -> Int? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int(parts[0]), whole >= 0, !parts[0].isEmpty,
              parts[0].allSatisfy(\.isNumber) else { return nil }
        var frac = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty, f.count <= 2, f.allSatisfy(\.isNumber), let v = Int(f) else { return nil }
            frac = f.count == 1 ? v * 10 : v
        }
        return whole * 100 + frac
    }
}

