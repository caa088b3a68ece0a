# shellcheck shell=bash
# Sourced by ./rtc: installs what the controller needs, once, and exports the
# environment every command runs in. Every step is skipped when already done.

RTC_ROOT=${RTC_ROOT:?}
RTC_CACHE="$RTC_ROOT/.cache"
RTC_VENV="$RTC_CACHE/venv"
RTC_COLLECTIONS="$RTC_CACHE/collections"

# netavark/aardvark-dns: the network stack the lab is built and tested on (podman would
# otherwise settle for the CNI plugins); debian-archive-keyring: debootstrap verifies with it.
APT_PACKAGES=(podman runc netavark aardvark-dns iptables debootstrap debian-archive-keyring nftables openssl
              uidmap iproute2 ca-certificates python3-venv git)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
}

ensure_venv() {
  local stamp="$RTC_VENV/.requirements.sha256" want
  want=$(sha256sum "$RTC_ROOT/requirements.txt" | cut -d' ' -f1)
  if [ -x "$RTC_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "creating the Python virtualenv (.cache/venv)"
  rm -rf "$RTC_VENV"
  python3 -m venv "$RTC_VENV"
  if ! "$RTC_VENV/bin/pip" install --disable-pip-version-check -r "$RTC_ROOT/requirements.txt" \
      >"$RTC_CACHE/pip-install.log" 2>&1; then
    tail -n 30 "$RTC_CACHE/pip-install.log" >&2
    echo "pip install failed; the whole log is in .cache/pip-install.log" >&2
    return 1
  fi
  echo "$want" >"$stamp"
}

# The repository root is the collection root; Ansible finds it as dlegate.rtc
# through this generated collections path.
ensure_collection_link() {
  mkdir -p "$RTC_COLLECTIONS/ansible_collections/dlegate"
  ln -sfn "$RTC_ROOT" "$RTC_COLLECTIONS/ansible_collections/dlegate/rtc"
}

export_environment() {
  export PATH="$RTC_VENV/bin:$PATH"
  export ANSIBLE_COLLECTIONS_PATH="$RTC_COLLECTIONS"
  export ANSIBLE_ROLES_PATH="$RTC_ROOT/roles"
  export CONTAINERS_CONF="${CONTAINERS_CONF:-$RTC_ROOT/tools/lab/containers.conf}"
  export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-1}"
  export ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}"
  export PYTHONDONTWRITEBYTECODE=1
  export PYTHONPATH="$RTC_COLLECTIONS${PYTHONPATH:+:$PYTHONPATH}"
}

bootstrap() {
  ensure_apt_packages
  ensure_venv
  ensure_collection_link
  export_environment
}
