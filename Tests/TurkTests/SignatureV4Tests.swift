import Foundation
import XCTest
import Crowd
@testable import Turk

/// The published AWS Signature Version 4 test suite (aws-sig-v4-test-suite, 2015-08-30: key
/// AKIDEXAMPLE, service `service`, us-east-1, 20150830T123600Z) and the verifier's refusals.
final class SignatureV4Tests: XCTestCase {
    let suite = SignatureV4(service: "service", region: "us-east-1")
    let credentials = AWSCredentials(accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let date = SignatureV4.parseAmzDate("20150830T123600Z")!

    func authorization(_ method: String, _ path: String, _ query: String = "") -> String {
        var headers = [("Host", "example.amazonaws.com")]
        return suite.sign(method: method, path: path, query: query, headers: &headers, body: [], credentials: credentials, date: date)
    }

    func testPublishedVectors() {
        let prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
        XCTAssertEqual(authorization("GET", "/"), prefix + "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", "get-vanilla")
        XCTAssertEqual(authorization("GET", "/", "Param2=value2&Param1=value1"),
                       prefix + "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", "get-vanilla-query-order-key-case")
        XCTAssertEqual(authorization("POST", "/"), prefix + "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", "post-vanilla")
        XCTAssertEqual(authorization("GET", "/\u{1234}"), prefix + "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85", "get-utf8")
    }

    func testCanonicalForms() {
        XCTAssertEqual(SignatureV4.canonicalQuery("b=2&a=1&A=0"), "A=0&a=1&b=2")
        XCTAssertEqual(SignatureV4.canonicalQuery("k=a%20b&e="), "e=&k=a%20b")
        XCTAssertEqual(SignatureV4.uriEncode("a b/c~d", keepSlash: true), "a%20b/c~d")
        XCTAssertEqual(SignatureV4.canonicalHeaderValue("  a   b \t c  "), "a b c")
        XCTAssertEqual(SignatureV4.amzDate(date), "20150830T123600Z")
        XCTAssertNil(SignatureV4.parseAmzDate("20151330T123600Z"))
    }

    func verify(_ headers: [(String, String)], body: [UInt8], now: Date, secrets: [String: String]) throws -> String {
        let service = SignatureV4()
        return try service.verify(method: "POST", path: "/", query: "", headers: headers, body: body, secretFor: { secrets[$0] }, now: now)
    }

    func testVerifierAcceptsItsOwnAndRefusesTampering() throws {
        let service = SignatureV4()
        let body = Array(#"{"HITId":"X"}"#.utf8)
        var headers = [("Host", "127.0.0.1:8443"), ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "MTurkRequesterServiceV20170117.GetHIT")]
        let now = Date()
        let auth = service.sign(method: "POST", path: "/", headers: &headers, body: body, credentials: credentials, date: now)
        headers.append(("Authorization", auth))
        let secrets = [credentials.accessKey: credentials.secretKey]
        XCTAssertEqual(try verify(headers, body: body, now: now, secrets: secrets), "AKIDEXAMPLE")

        func refusal(_ f: () throws -> String) -> String? {
            do { _ = try f(); return nil } catch { return (error as? SignatureV4.Refusal)?.type ?? "\(error)" }
        }
        XCTAssertEqual(refusal { try verify(headers, body: Array(#"{"HITId":"Y"}"#.utf8), now: now, secrets: secrets) }, "InvalidSignatureException")
        XCTAssertEqual(refusal { try verify(headers, body: body, now: now, secrets: ["OTHER": "x"]) }, "UnrecognizedClientException")
        XCTAssertEqual(refusal { try verify(headers, body: body, now: now.addingTimeInterval(16 * 60), secrets: secrets) }, "InvalidSignatureException")
        XCTAssertNil(refusal { try verify(headers, body: body, now: now.addingTimeInterval(14 * 60), secrets: secrets) })
        XCTAssertEqual(refusal { try verify(headers.filter { $0.0 != "Authorization" }, body: body, now: now, secrets: secrets) }, "MissingAuthenticationTokenException")
        var changedTarget = headers
        changedTarget[2] = ("X-Amz-Target", "MTurkRequesterServiceV20170117.DeleteHIT")
        XCTAssertEqual(refusal { try verify(changedTarget, body: body, now: now, secrets: secrets) }, "InvalidSignatureException")
    }

    func testCredentialsFile() throws {
        let text = """
        [default]
        aws_access_key_id = AKDEFAULT
        aws_secret_access_key = sdefault
        [profile lab]
        aws_access_key_id=AKLAB
        aws_secret_access_key=slab
        aws_session_token=tok
        """
        XCTAssertEqual(try AWSCredentials.parseCredentialsFile(text, profile: "default", file: "c"), AWSCredentials(accessKey: "AKDEFAULT", secretKey: "sdefault"))
        XCTAssertEqual(try AWSCredentials.parseCredentialsFile(text, profile: "lab", file: "c"), AWSCredentials(accessKey: "AKLAB", secretKey: "slab", sessionToken: "tok"))
        XCTAssertThrowsError(try AWSCredentials.parseCredentialsFile(text, profile: "none", file: "c"))
        let env = ["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "senv", "HOME": "/nonexistent"]
        XCTAssertEqual(try AWSCredentials.fromEnvironment(environment: env).accessKey, "AKENV")
        XCTAssertThrowsError(try AWSCredentials.fromEnvironment(environment: ["HOME": "/nonexistent"]))
    }

    func testMoneyAndFees() {
        XCTAssertEqual(Money.cents("0.05"), 5)
        XCTAssertEqual(Money.cents("1.5"), 150)
        XCTAssertEqual(Money.cents("10000"), 1_000_000)
        XCTAssertNil(Money.cents("0.051"))
        XCTAssertNil(Money.cents("-1"))
        XCTAssertNil(Money.cents("abc"))
        XCTAssertEqual(Money.string(cents: 999_964), "9999.64")
        XCTAssertEqual(Money.string(cents: 5), "0.05")
        XCTAssertEqual(TurkFees.feeCents(rewardCents: 2, assignmentsPerHIT: 5), 1, "the $0.01 minimum")
        XCTAssertEqual(TurkFees.feeCents(rewardCents: 50, assignmentsPerHIT: 9), 10)
        XCTAssertEqual(TurkFees.feeCents(rewardCents: 50, assignmentsPerHIT: 10), 20, "another 20 % at 10 or more assignments")
        XCTAssertEqual(TurkFees.bonusFeeCents(100), 20)
        XCTAssertEqual(TurkFees.bonusFeeCents(1), 1)
    }

    func testAnswerXMLRoundTrip() {
        let raw = #"[[{"x":1,"y":2,"timestamp":3}]]"#
        let xml = AnswerFormat.questionFormAnswers([("annotations", raw), ("note", "a<b & \"c\" é")])
        XCTAssertTrue(xml.hasPrefix(#"<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers"#))
        let back = AnswerFormat.parse(xml)
        XCTAssertEqual(back.map(\.0), ["annotations", "note"])
        XCTAssertEqual(back[0].1, raw)
        XCTAssertEqual(back[1].1, "a<b & \"c\" é")
    }
}
