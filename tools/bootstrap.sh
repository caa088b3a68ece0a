# shellcheck shell=bash
# Sourced by ./rtc: installs what the controller needs, once, and exports the
# environment every command runs in. Every step is skipped when already done.

RTC_ROOT=${RTC_ROOT:?}
RTC_CACHE="$RTC_ROOT/.cache"
RTC_VENV="$RTC_CACHE/venv"
RTC_COLLECTIONS="$RTC_CACHE/collections"

# netavark/aardvark-dns: the network stack the lab is built and tested on (podman would
# otherwise settle for the CNI plugins); debian-archive-keyring: debootstrap verifies with it;
# chromium: the playbook tests open the HTML compliance report in it, headless.
APT_PACKAGES=(podman runc netavark aardvark-dns iptables debootstrap debian-archive-keyring nftables openssl
              uidmap iproute2 ca-certificates python3-venv git chromium)

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

REQUIREMENT_FILES=(requirements.txt requirements-dev.txt)

requirements_hash() {
  (cd "$RTC_ROOT" && sha256sum "${REQUIREMENT_FILES[@]}") | sha256sum | cut -d' ' -f1
}

venv_is_current() {
  [ -x "$RTC_VENV/bin/python" ] && [ "$(cat "$RTC_VENV/.requirements.sha256" 2>/dev/null)" = "$1" ]
}

# .cache/venv is a symlink to .cache/venvs/HASH. A new set of requirements is installed
# into a venv of its own (console scripts name their interpreter by absolute path, so a
# venv cannot be moved once built), and the link is swapped in one rename: commands that
# are running keep a complete venv, and nobody ever sees a half-installed one.
ensure_venv() {
  local want
  want=$(requirements_hash)
  venv_is_current "$want" && return 0
  mkdir -p "$RTC_CACHE/venvs"
  (
    flock 9
    venv_is_current "$want" && exit 0
    build_venv "$RTC_CACHE/venvs/$want" "$want" && switch_venv "$want"
  ) 9>"$RTC_CACHE/venv.lock"
}

build_venv() {
  local dir=$1 want=$2 args=() file
  log "creating the Python virtualenv (.cache/venvs/${want:0:12}...)"
  rm -rf "$dir"
  python3 -m venv "$dir"
  for file in "${REQUIREMENT_FILES[@]}"; do args+=(-r "$RTC_ROOT/$file"); done
  if ! "$dir/bin/pip" install --disable-pip-version-check "${args[@]}" >"$RTC_CACHE/pip-install.log" 2>&1; then
    tail -n 30 "$RTC_CACHE/pip-install.log" >&2
    echo "pip install failed; the whole log is in .cache/pip-install.log" >&2
    rm -rf "$dir"
    return 1
  fi
  echo "$want" >"$dir/.requirements.sha256"
}

switch_venv() {
  local want=$1 previous=""
  [ -L "$RTC_VENV" ] && previous=$(readlink "$RTC_VENV")
  previous=${previous#venvs/}
  ln -sfn "venvs/$want" "$RTC_CACHE/venv.new"
  if [ -d "$RTC_VENV" ] && [ ! -L "$RTC_VENV" ]; then
    # A venv from before this layout: its scripts name .cache/venv, which the link serves
    # from now on; it is kept as the previous venv until the next switch.
    previous="unlinked-$$"
    mv -T "$RTC_VENV" "$RTC_CACHE/venvs/$previous"
  fi
  mv -T "$RTC_CACHE/venv.new" "$RTC_VENV"
  prune_venvs "$want" "$previous"
}

# Keep the current venv and the one before it (commands started from its scripts may
# still be running); older ones go.
prune_venvs() {
  local dir name
  for dir in "$RTC_CACHE"/venvs/*; do
    name=${dir##*/}
    [ "$name" = "$1" ] || [ "$name" = "$2" ] || rm -rf "$dir"
  done
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
