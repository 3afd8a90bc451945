#!/usr/bin/env bash
# sampler's host installer: ./install.sh --help says what it does.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./install.sh [options]

Installs sampler on this Debian host: the Debian packages it needs, a release build,
the binary, the systemd unit, the rule files and a default configuration (an existing
/etc/sampler/sampler.conf is kept; the new defaults go next to it as sampler.conf.dist).
Where systemd runs, it enables and (re)starts sampler.service and asks `sampler status`;
where it does not (a container), it says so and prints the command that runs sampler in
the foreground. Running it again is safe: that is how to upgrade.

Options:
  --prefix DIR     where the binary and shared files go (default: /usr/local)
  --destdir DIR    stage every file under DIR (or DESTDIR=DIR); nothing is started
  --binary FILE    install this sampler binary instead of building one
  --no-packages    do not install Debian packages
  --no-start       install, but do not enable or start the service
  --uninstall      stop the service; remove sampler's rules, unit, binary and shared
                   files; keep the configuration and the records
  --purge          with --uninstall: remove the configuration and the records too
  -h, --help       this text

Exit status: 0 done; 1 a step failed (the message says which); 2 bad options.
EOF
}

prefix=/usr/local
destdir=${DESTDIR:-}
binary=
packages=yes
start=yes
action=install
purge=no

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --binary) binary=${2:?--binary needs a file}; shift 2 ;;
    --binary=*) binary=${1#*=}; shift ;;
    --no-packages) packages=no; shift ;;
    --no-start) start=no; shift ;;
    --uninstall) action=uninstall; shift ;;
    --purge) purge=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$purge" = yes ] && [ "$action" != uninstall ]; then
  echo "install.sh: --purge goes with --uninstall" >&2
  exit 2
fi
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be an absolute path" >&2; exit 2 ;; esac
destdir=${destdir%/}

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$destdir$prefix/bin/sampler
share=$destdir$prefix/share/sampler
doc=$destdir$prefix/share/doc/sampler
unit=$destdir/etc/systemd/system/sampler.service
config_dir=$destdir/etc/sampler
config=$config_dir/sampler.conf

say() { echo "install.sh: $*"; }
fail() { echo "install.sh: $*" >&2; exit 1; }

# systemd is the init system here (sd_booted(3)'s test), and we install for real.
systemd_runs() { [ -z "$destdir" ] && [ -d /run/systemd/system ]; }

install_packages() {
  local needed=(libmnl0 libnetfilter-log1 iptables)
  [ -z "$binary" ] && needed+=(libmnl-dev libnetfilter-log-dev libnetfilter-conntrack-dev)
  local missing=()
  for p in "${needed[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || fail "Debian packages missing: ${missing[*]}; run as root, or install them and pass --no-packages"
  say "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get could not install ${missing[*]}"
}

build() {
  command -v swift >/dev/null \
    || fail "swift is not on PATH: install Swift 6.3 (https://www.swift.org/install/linux/), or pass --binary FILE"
  say "building a release binary (swift build -c release)"
  (cd "$source_dir" && swift build -c release) || fail "the build failed (the output above says why)"
  binary=$(cd "$source_dir" && swift build -c release --show-bin-path)/sampler
}

do_install() {
  [ "$packages" = yes ] && install_packages
  [ -n "$binary" ] || build
  [ -x "$binary" ] || fail "$binary is not an executable file"

  install -d -m 0755 "$(dirname "$bin")" "$share/iptables" "$doc" "$(dirname "$unit")"
  install -d -m 0755 "$config_dir"
  install -m 0755 "$binary" "$bin"
  install -m 0644 "$source_dir"/iptables/*.rules "$share/iptables/"
  install -m 0644 "$source_dir/README.md" "$doc/"
  install -d -m 0755 "$doc/clickhouse"
  install -m 0644 "$source_dir"/docs/*.md "$doc/"
  install -m 0644 "$source_dir"/docs/clickhouse/*.sql "$doc/clickhouse/"
  install -m 0644 "$source_dir/systemd/sampler.conf" "$share/sampler.conf"
  # The unit names the binary and the README by the real (not staged) prefix.
  sed -e "s|/usr/local/bin/sampler|$prefix/bin/sampler|g" \
      -e "s|/usr/local/share/doc/sampler|$prefix/share/doc/sampler|g" \
      "$source_dir/systemd/sampler.service" > "$unit.tmp"
  chmod 0644 "$unit.tmp"
  mv "$unit.tmp" "$unit"
  if [ -e "$config" ]; then
    install -m 0644 "$source_dir/systemd/sampler.conf" "$config.dist"
    say "kept $config (the new defaults are in $config.dist)"
  else
    install -m 0644 "$source_dir/systemd/sampler.conf" "$config"
    say "wrote the default configuration to $config"
  fi
  "$bin" config check "$config" >/dev/null \
    || fail "$config is not valid for this version of sampler (the message above says what to change)"
  say "installed $bin ($("$bin" --version)), $unit, $share"

  if [ "$start" = no ]; then
    say "not starting (--no-start); start it with: systemctl enable --now sampler.service"
  elif systemd_runs; then
    systemctl daemon-reload
    systemctl enable sampler.service >/dev/null
    systemctl restart sampler.service || fail "sampler.service did not start: journalctl -u sampler.service says why"
    say "sampler.service is enabled and running"
    sleep 2
    "$bin" status --config "$config" || true
  else
    if [ -n "$destdir" ]; then
      say "staged under $destdir: nothing was started"
    else
      say "systemd is not running here (a container?), so there is no service to start"
    fi
    say "run sampler in the foreground (as root; it installs the rules and removes them on exit) with:"
    echo "  $bin run --install-rules --config $config"
  fi
}

do_uninstall() {
  if systemd_runs && [ -e "$unit" ]; then
    # Stopping runs ExecStopPost, which removes the rules.
    systemctl disable --now sampler.service >/dev/null 2>&1 || true
    say "stopped and disabled sampler.service"
  fi
  if [ -x "$bin" ]; then
    local with_config=()
    [ -e "$config" ] && with_config=(--config "$config")
    "$bin" rules remove "${with_config[@]}" | sed 's/^/install.sh: rules: /' \
      || echo "install.sh: could not remove sampler's rules; remove them with: $bin rules remove" >&2
  fi
  rm -f "$bin" "$unit"
  rm -rf "$share" "$doc"
  systemd_runs && systemctl daemon-reload
  say "removed $bin, $unit, $share, $doc"
  if [ "$purge" = yes ]; then
    rm -rf "$config_dir" "$destdir/var/lib/sampler" "$destdir/var/lib/private/sampler" "$destdir/run/sampler"
    say "purged the configuration ($config_dir) and the records ($destdir/var/lib/sampler)"
  else
    say "kept the configuration ($config_dir) and the records ($destdir/var/lib/sampler); --purge removes them"
  fi
}

if [ "$action" = install ]; then do_install; else do_uninstall; fi
