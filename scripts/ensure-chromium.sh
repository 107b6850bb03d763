#!/usr/bin/env bash
# The browser tests (bindings-python/tests/test_install_browser.py, bindings-node/test/
# install.browser.test.js) drive Debian's `chromium`; the Python one through `chromedriver`
# (package chromium-driver). `make test` runs this first: it installs what is missing with
# apt-get where apt-get is usable (root, or password-less sudo). Where it is not, it says so
# and the tests skip, saying why; under CI (CI set) that is an error, and so is an apt-get
# install that fails: CI always runs the browser tests.
set -u
need=()
command -v "${PARTLY_CHROMIUM:-chromium}" >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
usable=0
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    usable=1
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
    usable=1
  fi
fi

if [ "$usable" -eq 1 ]; then
  echo "browser tests: installing ${need[*]} with apt-get"
  if $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null; then
    exit 0
  fi
  echo "error: apt-get install ${need[*]} failed, so the browser tests cannot run" >&2
  exit 1
fi

why="${need[*]} missing and apt-get is not usable here (no apt-get, or not root and no password-less sudo)"
if [ -n "${CI:-}" ]; then
  echo "error: CI must run the browser tests, but $why" >&2
  exit 1
fi
echo "" >&2
echo "*** The browser tests CANNOT RUN on this machine: $why." >&2
echo "*** Install Debian's chromium and chromium-driver (or set PARTLY_CHROMIUM); they are skipped now." >&2
echo "" >&2
exit 0
