#!/usr/bin/env python3
"""The local marketplace driven by the real AWS SDK (boto3), as an outside client would drive it.

Starts `crowdlab turk serve` on a free port, uploads a phantom image with signed PUTs, creates a HIT
with the page from `crowdlab turk question`, waits for the simulated workers, reads their answers,
approves and rejects, pays a bonus (twice, with one token), checks the balance to the cent, checks
the errors for an unknown HIT, a bad signature, an unknown key and a stale request time, then kills
the server with SIGKILL in the middle of a stream of CreateHIT calls and checks after a restart that
everything acknowledged is there, nothing is duplicated and the clock resumed. Then an adaptive job
(`crowdlab job submit` and `crowdlab job extend`): the added assignments as the service shows them,
a SIGKILL of the server mid-job, nothing added or posted twice after the restart, fees to the cent.
Then a verify job (`crowdlab job verify`): its yes/no HITs as a HIT type of their own, through a
SIGKILL of the server and a lost save of the job folder, nothing posted twice, fees to the cent.

Usage: python3 Tests/External/boto3_marketplace.py [path/to/crowdlab]
"""
import datetime
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CROWDLAB = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/crowdlab")
AK, SK = "AKIDBOTOTEST", "boto-test-secret"
WORK = tempfile.mkdtemp(prefix="crowdlab-boto3-")
DB = os.path.join(WORK, "market.sqlite")


class Server:
    """`crowdlab turk serve` as a child process; the port it prints is read back."""

    def __init__(self, port=0, db=DB):
        self.proc = subprocess.Popen(
            [CROWDLAB, "turk", "serve", "--port", str(port), "--db", db, "--access-key", AK, "--secret-key", SK,
             "--clock-speed", "3600", "--seed", "11"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise RuntimeError("server did not start: " + line + self.proc.stderr.read())
        self.port = int(m.group(1))
        self.endpoint = "http://127.0.0.1:%d" % self.port

    def client(self, ak=AK, sk=SK):
        return boto3.client("mturk", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ak, aws_secret_access_key=sk)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()


def signed_put(endpoint, path, data, content_type):
    req = AWSRequest(method="PUT", url=endpoint + path, data=data, headers={"Content-Type": content_type})
    SigV4Auth(Credentials(AK, SK), "mturk-requester", "us-east-1").add_auth(req)
    r = urllib.request.Request(req.url, data=data, headers=dict(req.headers.items()), method="PUT")
    return urllib.request.urlopen(r).status


def raw_call(endpoint, target, body, amz_date, ak=AK, sk=SK):
    """A request signed by hand (an independent SigV4), for a chosen request time."""
    host = endpoint.split("//")[1]
    payload = json.dumps(body).encode()
    headers = {"content-type": "application/x-amz-json-1.1", "host": host, "x-amz-date": amz_date,
               "x-amz-target": "MTurkRequesterServiceV20170117." + target}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["POST", "/", "", "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)), signed,
                           hashlib.sha256(payload).hexdigest()])
    scope = "%s/us-east-1/mturk-requester/aws4_request" % amz_date[:8]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + sk).encode()
    for part in (amz_date[:8], "us-east-1", "mturk-requester", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    h = {k: v for k, v in headers.items() if k != "host"}
    h["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (ak, scope, signed, sig)
    try:
        with urllib.request.urlopen(urllib.request.Request(endpoint + "/", data=payload, headers=h, method="POST")) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def error_code(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")
    return None, ""


class MarketplaceThroughBoto3(unittest.TestCase):
    def crowdlab(self, *args):
        """Runs crowdlab with the test's credentials; it must succeed. Returns its standard output."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK)
        r = subprocess.run([CROWDLAB, *args], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_a_full_job_then_sigkill(self):
        subprocess.run([CROWDLAB, "generate", "spots", "--count", "1", "--seed", "21", "--out", os.path.join(WORK, "img")], check=True,
                       stdout=subprocess.DEVNULL)
        pngs = sorted(f for f in os.listdir(os.path.join(WORK, "img")) if f.endswith(".png"))
        name = pngs[0]
        with open(os.path.join(WORK, "img", name), "rb") as f:
            png = f.read()
        with open(os.path.join(WORK, "img", name[:-4] + "_truth.csv"), "rb") as f:
            truth = f.read()
        truth_rows = [tuple(map(float, l.split(",")[:2])) for l in truth.decode().splitlines()[1:] if l.strip()]

        server = Server()
        try:
            mturk = server.client()
            self.assertEqual(mturk.get_account_balance()["AvailableBalance"], "10000.00")
            self.assertEqual(signed_put(server.endpoint, "/images/" + name, png, "image/png"), 200)
            self.assertEqual(signed_put(server.endpoint, "/images/" + name + ".truth.csv", truth, "text/csv"), 200)
            # The image is served to workers' browsers without credentials.
            with urllib.request.urlopen(server.endpoint + "/images/" + name) as r:
                self.assertEqual(r.read(), png)
            question = subprocess.run([CROWDLAB, "turk", "question", "--image-url", server.endpoint + "/images/" + name,
                                       "--tool", "crosshairs", "--instructions", "Click the centre of every spot."],
                                      check=True, capture_output=True, text=True).stdout
            hit = mturk.create_hit(MaxAssignments=5, LifetimeInSeconds=86400, AssignmentDurationInSeconds=3600,
                                   AutoApprovalDelayInSeconds=30 * 86400, Reward="0.05", Title="Click the spots",
                                   Description="Click the centre of every bright spot.", Question=question,
                                   UniqueRequestToken="boto3-hit-1")["HIT"]
            self.assertEqual(hit["HITStatus"], "Assignable")
            self.assertIsInstance(hit["CreationTime"], datetime.datetime)  # botocore parsed the timestamp

            # Simulated workers take it on the marketplace clock (an hour a second).
            deadline = time.time() + 120
            while True:
                assignments = mturk.list_assignments_for_hit(HITId=hit["HITId"], MaxResults=100)["Assignments"]
                if len(assignments) == 5 or time.time() > deadline:
                    break
                time.sleep(0.5)
            self.assertEqual(len(assignments), 5)
            self.assertEqual(len({a["WorkerId"] for a in assignments}), 5)
            self.assertEqual(mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"], "Reviewable")
            height = 300
            near = total = 0
            for a in assignments:
                self.assertEqual(a["AssignmentStatus"], "Submitted")
                self.assertLess(a["AcceptTime"], a["SubmitTime"])
                root = ET.fromstring(a["Answer"])
                ns = {"q": "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"}
                answers = {x.find("q:QuestionIdentifier", ns).text: x.find("q:FreeText", ns).text for x in root.findall("q:Answer", ns)}
                raw = json.loads(answers["annotations"])
                for shape in raw:
                    for v in shape:
                        self.assertEqual(set(v), {"x", "y", "timestamp"})
                        total += 1
                        d = min(((c - v["x"]) ** 2 + ((height - r) - v["y"]) ** 2) ** 0.5 for c, r in truth_rows)
                        near += d <= 16
            self.assertGreater(total, 50)
            self.assertGreater(near / total, 0.9, "clicks fall on the true spots (y from the bottom edge)")

            # Review and pay.
            for a in assignments[:4]:
                mturk.approve_assignment(AssignmentId=a["AssignmentId"], RequesterFeedback="Thanks")
            mturk.reject_assignment(AssignmentId=assignments[4]["AssignmentId"], RequesterFeedback="Off target")
            code, _ = error_code(lambda: mturk.approve_assignment(AssignmentId=assignments[4]["AssignmentId"]))
            self.assertEqual(code, "RequestError")
            for _ in range(2):
                mturk.send_bonus(WorkerId=assignments[0]["WorkerId"], BonusAmount="0.25", AssignmentId=assignments[0]["AssignmentId"],
                                 Reason="Careful work", UniqueRequestToken="boto3-bonus-1")
            self.assertEqual(len(mturk.list_bonus_payments(HITId=hit["HITId"])["BonusPayments"]), 1)
            statuses = mturk.list_assignments_for_hit(HITId=hit["HITId"], AssignmentStatuses=["Approved"])["Assignments"]
            self.assertEqual(len(statuses), 4)
            # 10000 - 4 x (0.05 + 0.01) - (0.25 + 0.05) = 9999.46
            balance = mturk.get_account_balance()
            self.assertEqual(balance["AvailableBalance"], "9999.46")
            self.assertEqual(balance["OnHoldBalance"], "0.00")

            # Errors as the service gives them.
            code, message = error_code(lambda: mturk.get_hit(HITId="3NOSUCHHIT0000000000000000000X"))
            self.assertEqual(code, "RequestError")
            self.assertIn("does not exist", message)
            self.assertEqual(error_code(lambda: server.client(sk="wrong").get_account_balance())[0], "InvalidSignatureException")
            self.assertEqual(error_code(lambda: server.client(ak="AKIDUNKNOWN").get_account_balance())[0], "UnrecognizedClientException")
            stale = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
            status, body = raw_call(server.endpoint, "GetAccountBalance", {}, stale)
            self.assertEqual((status, body["__type"]), (400, "InvalidSignatureException"))
            self.assertIn("Signature expired", body["message"])
            fresh = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            self.assertEqual(raw_call(server.endpoint, "GetAccountBalance", {}, fresh)[0], 200)

            # SIGKILL in the middle of a stream of CreateHIT calls.
            before = {a["AssignmentId"]: a["AssignmentStatus"] for a in mturk.list_assignments_for_hit(HITId=hit["HITId"], MaxResults=100)["Assignments"]}
            last_clock = mturk.get_hit(HITId=hit["HITId"])["HIT"]["CreationTime"]
            acknowledged = {}
            stop = threading.Event()

            def stream():
                c = server.client()
                for i in range(10000):
                    if stop.is_set():
                        return
                    try:
                        h = c.create_hit(MaxAssignments=2, LifetimeInSeconds=86400, AssignmentDurationInSeconds=3600,
                                         AutoApprovalDelayInSeconds=30 * 86400, Reward="0.02", Title="stream %d" % i,
                                         Description="d", Question=question, UniqueRequestToken="stream-%d" % i)["HIT"]
                        acknowledged["stream-%d" % i] = h["HITId"]
                    except Exception:
                        return
            t = threading.Thread(target=stream)
            t.start()
            time.sleep(1.5)
            server.kill9()
            stop.set()
            t.join()
            self.assertGreater(len(acknowledged), 5, "the stream was running when the server was killed")

            server = Server()
            mturk = server.client()
            after = {a["AssignmentId"]: a["AssignmentStatus"] for a in mturk.list_assignments_for_hit(HITId=hit["HITId"], MaxResults=100)["Assignments"]}
            self.assertEqual(after, before, "assignments and their review survive")
            self.assertEqual(len(mturk.list_bonus_payments(HITId=hit["HITId"])["BonusPayments"]), 1)
            listed = {}
            paginator = mturk.get_paginator("list_hits")
            for page in paginator.paginate(PaginationConfig={"PageSize": 100}):
                for h in page["HITs"]:
                    listed[h["HITId"]] = h
            for token, hit_id in acknowledged.items():
                self.assertIn(hit_id, listed, "acknowledged HIT %s (%s) lost" % (hit_id, token))
            titles = [h["Title"] for h in listed.values()]
            self.assertEqual(len(titles), len(set(titles)), "no HIT was created twice")
            streamed = sum(1 for t in titles if t.startswith("stream "))
            self.assertIn(streamed, (len(acknowledged), len(acknowledged) + 1), "at most the one in flight was committed unacknowledged")
            # Money: spending unchanged, each streamed HIT holds 2 x (0.02 + 0.01).
            self.assertEqual(mturk.get_account_balance()["AvailableBalance"], "%.2f" % (9999.46 - 0.06 * streamed))
            # Retrying the first unacknowledged request either creates it now or names the HIT made before the kill.
            retry = "stream-%d" % len(acknowledged)
            try:
                mturk.create_hit(MaxAssignments=2, LifetimeInSeconds=86400, AssignmentDurationInSeconds=3600, Reward="0.02",
                                 Title="stream %d" % len(acknowledged), Description="d", Question=question, UniqueRequestToken=retry)
                self.assertEqual(streamed, len(acknowledged))
            except botocore.exceptions.ClientError as e:
                self.assertEqual(streamed, len(acknowledged) + 1)
                self.assertTrue(any(h in e.response["Error"]["Message"] for h in listed))
            new = mturk.create_hit(MaxAssignments=1, LifetimeInSeconds=3600, AssignmentDurationInSeconds=600, Reward="0.01",
                                   Title="after restart", Description="d", Question=question)["HIT"]
            self.assertGreaterEqual(new["CreationTime"], last_clock, "the clock resumed, not restarted")
        finally:
            server.stop()

    def test_an_adaptive_job_extended_through_a_sigkill(self):
        """`crowdlab job extend` adds assignments the service shows as MaxAssignments; after the
        server is killed with SIGKILL and restarted nothing is added twice; fees to the cent."""
        db = os.path.join(WORK, "adaptive.sqlite")
        job = os.path.join(WORK, "adaptive-job")
        server = Server(db=db)
        crowdlab = self.crowdlab

        def extend_until_done(deadline):
            out = ""
            while time.time() < deadline:
                out = crowdlab("job", "extend", job)
                m = re.search(r"added an assignment to (\d+) image\(s\); (\d+) settled, (\d+) at the cap of 9, (\d+) waiting", out)
                self.assertIsNotNone(m, out)
                if int(m.group(1)) == 0 and int(m.group(4)) == 0:
                    return out
                time.sleep(1.5)
            self.fail("the job did not settle: " + out)

        def asked():
            with open(os.path.join(job, "job.json")) as f:
                return {i["hitId"]: i["assignments"] for i in json.load(f)["images"]}

        try:
            crowdlab("job", "submit", os.path.join(os.getcwd(), "Scenarios", "spots-quickstart.yaml"), "--set", "job.policy=adaptive",
                     "--set", "scene.images=3", "--backend", "local", "--endpoint", server.endpoint, "--job", job)
            mturk = server.client()
            hits = mturk.list_hits()["HITs"]
            self.assertEqual(sorted(h["MaxAssignments"] for h in hits), [3, 3, 3])
            # One round after the first answers are in, then the server killed mid-job.
            deadline = time.time() + 120
            while time.time() < deadline and not any(n > 3 for n in asked().values()):
                time.sleep(1.5)
                crowdlab("job", "extend", job)
            before = asked()
            self.assertTrue(any(n == 4 for n in before.values()), before)
            for h in server.client().list_hits()["HITs"]:
                self.assertEqual(h["MaxAssignments"], before[h["HITId"]], "the service shows the added assignment")
            port = server.port
            server.kill9()
            server = Server(port=port, db=db)   # restarted where the job's manifest points
            mturk = server.client()
            after_restart = {h["HITId"]: h["MaxAssignments"] for h in mturk.list_hits()["HITs"]}
            self.assertEqual(after_restart, before, "every acknowledged extension survived the kill, none doubled")
            extend_until_done(time.time() + 180)
            final = asked()
            listed = {h["HITId"]: h["MaxAssignments"] for h in mturk.list_hits()["HITs"]}
            self.assertEqual(listed, final)
            self.assertEqual(len(listed), 3, "no HIT posted twice")
            self.assertTrue(all(3 <= n <= 9 for n in final.values()), final)
            crowdlab("job", "review", job, "--bonus", "0.00")
            approved = 0
            for hit_id, n in final.items():
                statuses = [a["AssignmentStatus"] for a in mturk.list_assignments_for_hit(HITId=hit_id, MaxResults=100)["Assignments"]]
                self.assertEqual(len(statuses), n, "every asked assignment was done, once")
                approved += statuses.count("Approved")
            # $0.02 reward + $0.01 fee (20 %, at least a cent) per approved assignment; a rejection costs nothing.
            balance = mturk.get_account_balance()
            self.assertEqual(balance["AvailableBalance"], "%.2f" % (10000 - 0.03 * approved))
            self.assertEqual(balance["OnHoldBalance"], "0.00")
        finally:
            server.stop()

    def test_a_verify_stage_through_a_sigkill(self):
        """`crowdlab job verify` posts the undecided objects as HITs of their own type once the
        first stage is in; after a SIGKILL of the server, and a job folder that lost the last
        HIT's id, nothing is posted twice; the simulated workers answer; fees to the cent."""
        db = os.path.join(WORK, "verify.sqlite")
        job = os.path.join(WORK, "verify-job")
        server = Server(db=db)
        crowdlab = self.crowdlab

        def manifest():
            with open(os.path.join(job, "job.json")) as f:
                return json.load(f)

        try:
            crowdlab("job", "submit", os.path.join(os.getcwd(), "Scenarios", "spots-quickstart.yaml"), "--set", "job.policy=verify",
                     "--set", "scene.images=3", "--set", "job.replicates=4", "--set", "job.verify_pay_usd=0.03",
                     "--backend", "local", "--endpoint", server.endpoint, "--job", job)
            out = crowdlab("job", "verify", job)
            self.assertIn("still waiting for answers", out)
            deadline = time.time() + 120
            while time.time() < deadline and "verify stage:" not in out:
                time.sleep(1.5)
                out = crowdlab("job", "verify", job)
            m = re.search(r"verify stage: (\d+) undecided object\(s\) in (\d+) HIT\(s\) \((\d+) posted now\)", out)
            self.assertIsNotNone(m, out)
            questions, hits = int(m.group(1)), int(m.group(2))
            self.assertGreater(questions, 0)
            self.assertEqual(hits, (questions + 9) // 10)
            image_hits = {i["hitId"] for i in manifest()["images"]}
            mturk = server.client()
            listed = mturk.list_hits(MaxResults=100)["HITs"]
            verify = [h for h in listed if h["HITId"] not in image_hits]
            self.assertEqual(len(verify), hits)
            image_types = {h["HITTypeId"] for h in listed if h["HITId"] in image_hits}
            for h in verify:
                self.assertNotIn(h["HITTypeId"], image_types, "a HIT type of its own")
                self.assertEqual((h["Title"], h["Reward"], h["MaxAssignments"]), ("Is there an object at the crosshair?", "0.03", 3))
                self.assertIn("crowdlab-questions", h["Question"])

            # The server killed, and the job folder as if the client died after its last CreateHIT.
            port = server.port
            server.kill9()
            server = Server(port=port, db=db)
            mturk = server.client()
            state = manifest()
            state["verify"]["hitIds"][-1] = None
            with open(os.path.join(job, "job.json"), "w") as f:
                json.dump(state, f)
            out = crowdlab("job", "verify", job)
            self.assertIn("(1 posted now)", out)
            again = mturk.list_hits(MaxResults=100)["HITs"]
            self.assertEqual(sorted(h["HITId"] for h in again), sorted(h["HITId"] for h in listed), "nothing posted twice")
            self.assertEqual(len({h["RequesterAnnotation"] for h in again}), len(again))

            deadline = time.time() + 180
            while time.time() < deadline:
                done = sum(len(mturk.list_assignments_for_hit(HITId=h["HITId"], MaxResults=100)["Assignments"]) for h in verify)
                if done == 3 * hits:
                    break
                time.sleep(1.5)
            self.assertEqual(done, 3 * hits, "every verify assignment was answered")
            out = crowdlab("job", "collect", job)
            self.assertRegex(out, r"verify stage: %d answer\(s\) to %d of %d question\(s\)" % (3 * hits, questions, questions))
            crowdlab("job", "review", job, "--bonus", "0.00")
            cents = 0
            for h in again:
                statuses = [a["AssignmentStatus"] for a in mturk.list_assignments_for_hit(HITId=h["HITId"], MaxResults=100)["Assignments"]]
                self.assertNotIn("Submitted", statuses, "every answer reviewed")
                # $0.02 + $0.01 fee per image assignment, $0.03 + $0.01 per verify assignment (20 %, at least a cent).
                cents += statuses.count("Approved") * (3 if h["HITId"] in image_hits else 4)
            balance = mturk.get_account_balance()
            self.assertEqual(balance["AvailableBalance"], "%d.%02d" % divmod(1000000 - cents, 100))
            self.assertEqual(balance["OnHoldBalance"], "0.00")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
