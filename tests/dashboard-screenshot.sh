#!/usr/bin/env bash
# Writes docs/dashboard.png: the dashboard in headless Chromium while traffic flows. The browser test
# (tests/PluginProxy.Tests/Admin/DashboardBrowserTests.cs) takes the screenshot; this keeps it.
#   bash tests/dashboard-screenshot.sh            (needs Debian's chromium: apt-get install chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "no chromium on PATH: apt-get install chromium" >&2
  exit 1
fi
out="$PWD/docs/dashboard.png"
rm -f "$out"
PLUGINPROXY_DASHBOARD_SCREENSHOT="$out" dotnet test tests/PluginProxy.Tests --filter "FullyQualifiedName~DashboardBrowserTests"
test -s "$out" || { echo "the test ran but wrote no $out" >&2; exit 1; }
echo "wrote $out"
