#!/usr/bin/env python3
"""The annotation page from `crowdlab turk question` in a real browser (headless Chromium, driven
through the DevTools protocol): a person opens three HITs on the local marketplace (crosshairs,
polyline, polygon), clicks on the image, finishes shapes with Enter and by closing the polygon,
undoes a stray point, zooms, and submits; the test then reads the answer through the requester API
(boto3) and checks the posted Quanti.us raw_data point by point.

Usage: python3 Tests/External/browser_annotation_page.py [path/to/crowdlab]   (needs chromium, websocket-client)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import websocket  # websocket-client
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CROWDLAB = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/crowdlab")
AK, SK = "AKIDBROWSER", "browser-secret"
WORK = tempfile.mkdtemp(prefix="crowdlab-browser-")
NS = {"q": "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"}


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("no chromium on PATH (apt-get install chromium)")


class DevTools:
    """A page of headless Chromium over the DevTools protocol."""

    def __init__(self, url):
        self.profile = tempfile.mkdtemp(prefix="crowdlab-chromium-")
        self.proc = subprocess.Popen([chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
                                      "--user-data-dir=" + self.profile, "--window-size=1200,1000", url],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        def read_port_file():
            if not os.path.exists(port_file):
                return ""
            with open(port_file) as f:
                return f.read().strip()
        for _ in range(200):
            if read_port_file():
                break
            time.sleep(0.1)
        port = int(read_port_file().split()[0])
        for _ in range(100):
            pages = [t for t in json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port)) if t["type"] == "page"]
            if pages:
                break
            time.sleep(0.1)
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})

    def eval(self, expression):
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return r.get("result", {}).get("value")

    def wait_for(self, expression, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if self.eval(expression):
                return
            time.sleep(0.1)
        raise AssertionError("timed out waiting for " + expression)

    def click(self, x, y):
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def key(self, key, code, vk, modifiers=0):
        self.send("Input.dispatchKeyEvent", type="keyDown", key=key, code=code, windowsVirtualKeyCode=vk, modifiers=modifiers)
        self.send("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=vk, modifiers=modifiers)

    def click_element(self, element_id):
        r = self.eval("JSON.stringify(document.getElementById('%s').getBoundingClientRect())" % element_id)
        b = json.loads(r)
        self.click(b["left"] + b["width"] / 2, b["top"] + b["height"] / 2)

    def close(self):
        self.ws.close()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


class AnnotationPageInChromium(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = subprocess.Popen([CROWDLAB, "turk", "serve", "--port", "0", "--db", os.path.join(WORK, "m.sqlite"), "--access-key", AK,
                                       "--secret-key", SK, "--no-simulated-workers"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.endpoint = "http://127.0.0.1:" + re.search(r":(\d+)", cls.server.stdout.readline().split("http://")[1]).group(1)
        cls.mturk = boto3.client("mturk", endpoint_url=cls.endpoint, region_name="us-east-1", aws_access_key_id=AK, aws_secret_access_key=SK)
        subprocess.run([CROWDLAB, "generate", "spots", "--count", "1", "--seed", "4", "--out", os.path.join(WORK, "img")], check=True, stdout=subprocess.DEVNULL)
        cls.image = sorted(f for f in os.listdir(os.path.join(WORK, "img")) if f.endswith(".png"))[0]
        with open(os.path.join(WORK, "img", cls.image), "rb") as f:
            png = f.read()
        req = AWSRequest(method="PUT", url=cls.endpoint + "/images/" + cls.image, data=png, headers={"Content-Type": "image/png"})
        SigV4Auth(Credentials(AK, SK), "mturk-requester", "us-east-1").add_auth(req)
        urllib.request.urlopen(urllib.request.Request(req.url, data=png, headers=dict(req.headers.items()), method="PUT"))
        cls.browser = DevTools("about:blank")

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.server.terminate()
        cls.server.wait()
        cls.server.stdout.close()

    def hit_for(self, tool):
        question = subprocess.run([CROWDLAB, "turk", "question", "--image-url", self.endpoint + "/images/" + self.image, "--tool", tool,
                                   "--instructions", "Annotate for the test."], check=True, capture_output=True, text=True).stdout
        return self.mturk.create_hit(MaxAssignments=1, LifetimeInSeconds=3600, AssignmentDurationInSeconds=600, Reward="0.05",
                                     Title="browser " + tool, Description="d", Question=question)["HIT"]["HITId"]

    def open_work_page(self, hit_id):
        b = self.browser
        b.send("Page.enable")
        b.send("Page.navigate", url="%s/work/%s?workerId=APERSONINCHROME" % (self.endpoint, hit_id))
        b.wait_for("document.readyState === 'complete' && document.getElementById('canvas') && document.getElementById('canvas').width > 10")
        b.wait_for("!document.getElementById('submitButton').disabled")

    def pixel(self, col, row):
        """Page coordinates of an image pixel's centre at the page's current zoom."""
        rect = json.loads(self.browser.eval("JSON.stringify(document.getElementById('canvas').getBoundingClientRect())"))
        zoom = rect["width"] / 300.0
        return rect["left"] + (col + 0.5) * zoom, rect["top"] + (row + 0.5) * zoom

    def click_pixel(self, col, row):
        self.browser.click(*self.pixel(col, row))
        time.sleep(0.02)

    def submit_and_read(self, hit_id):
        self.browser.click_element("submitButton")
        self.browser.wait_for("document.getElementById('submitted') !== null")
        assignments = self.mturk.list_assignments_for_hit(HITId=hit_id)["Assignments"]
        self.assertEqual(len(assignments), 1)
        self.assertEqual(assignments[0]["WorkerId"], "APERSONINCHROME")
        root = ET.fromstring(assignments[0]["Answer"])
        answers = {a.find("q:QuestionIdentifier", NS).text: a.find("q:FreeText", NS).text for a in root.findall("q:Answer", NS)}
        self.assertNotIn("assignmentId", answers)
        return json.loads(answers["annotations"])

    def xy(self, raw):
        return [[(v["x"], v["y"]) for v in shape] for shape in raw]

    def test_crosshairs_with_undo_and_zoom(self):
        hit = self.hit_for("crosshairs")
        self.open_work_page(hit)
        self.click_pixel(40, 50)
        self.click_pixel(200, 120)
        self.click_pixel(10, 10)                         # a stray click...
        self.browser.key("z", "KeyZ", 90, modifiers=2)   # ...undone with Ctrl+Z
        self.browser.click_element("zoomIn")             # zoom changes the scale, not the coordinates
        self.click_pixel(150, 60)                        # (kept inside the scrolled view at the new zoom)
        raw = self.submit_and_read(hit)
        self.assertEqual(self.xy(raw), [[(40, 250), (200, 180), (150, 240)]], "y counts from the bottom edge (height 300)")
        times = [v["timestamp"] for v in raw[0]]
        self.assertEqual(times, sorted(times))

    def test_polylines_finished_with_enter(self):
        hit = self.hit_for("polyline")
        self.open_work_page(hit)
        for p in [(20, 20), (60, 40), (100, 90)]:
            self.click_pixel(*p)
        self.browser.key("Enter", "Enter", 13)
        for p in [(200, 200), (250, 260)]:
            self.click_pixel(*p)
        self.browser.click_element("undo")               # drops (250, 260)
        self.click_pixel(240, 280)
        raw = self.submit_and_read(hit)                  # the open line is finished on submit
        self.assertEqual(self.xy(raw), [[(20, 280), (60, 260), (100, 210)], [(200, 100), (240, 20)]])

    def test_polygon_closed_on_its_first_point(self):
        hit = self.hit_for("polygon")
        self.open_work_page(hit)
        for p in [(100, 100), (160, 100), (160, 170), (100, 170)]:
            self.click_pixel(*p)
        self.click_pixel(100, 100)                       # closes the outline
        for p in [(20, 200), (60, 200), (40, 240)]:
            self.click_pixel(*p)
        self.browser.click_element("finish")
        raw = self.submit_and_read(hit)
        self.assertEqual(self.xy(raw), [[(100, 200), (160, 200), (160, 130), (100, 130)], [(20, 100), (60, 100), (40, 60)]])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
