# Makes sure headless Chromium and ChromeDriver are installed (the docs page is tested in a real
# browser); sourced by scripts/test. Installs Debian's packages when missing.

ensure_browser() {
  if [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && [ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ]; then
    return 0
  fi
  log "installing Chromium and ChromeDriver from the OS packages (browser test of /docs)"
  if [ "$(id -u)" -ne 0 ]; then
    log "installing needs root: run 'sudo apt-get install chromium chromium-driver'"
    return 1
  fi
  apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
}
