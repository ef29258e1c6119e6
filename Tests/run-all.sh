#!/usr/bin/env bash
# The whole test suite: the Swift tests, then the tests that drive crowdlab from outside as other
# programs would (the AWS SDK for Python against `crowdlab turk serve`, the annotation page in
# headless Chromium). Installs the Python packages and Chromium when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
python3 -c "import boto3, websocket" 2>/dev/null || python3 -m pip install -q boto3 websocket-client
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || {
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; }
swift test
swift build --product crowdlab
python3 Tests/External/boto3_marketplace.py .build/debug/crowdlab
python3 Tests/External/browser_annotation_page.py .build/debug/crowdlab
