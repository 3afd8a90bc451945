#!/usr/bin/env bash
# sampler's host installer, a thin front to the Debian package: ./install.sh --help says
# what it does. The package itself (scripts/package-deb, packaging/deb/) does the work.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: ./install.sh [--deb FILE] | --uninstall | --purge

Installs sampler on this Debian 12 host as a Debian package, with apt-get:

  ./install.sh             builds the package from this source tree (needs Swift 6.3 on
                           PATH; installs the Debian packages the build needs), keeps it
                           in .build-deb/dist/, and installs it
  ./install.sh --deb FILE  installs a package built elsewhere (scripts/package-deb, or a
                           first ./install.sh there): no Swift needed on this host

The package enables sampler.service and, where systemd runs, starts it (restarts it on
an upgrade); install.sh then asks `sampler status`. Where systemd does not run (a
container), it prints the command that runs sampler in the foreground. An edited
/etc/sampler/sampler.conf is kept on upgrade (the new defaults go to
sampler.conf.dpkg-dist beside it). Running it again upgrades, or reinstalls the same
version.

  ./install.sh --uninstall apt-get remove sampler: stops the service, removes the
                           kernel rules, the binary and the unit; keeps /etc/sampler and
                           the records in /var/lib/sampler
  ./install.sh --purge     apt-get purge sampler: also /etc/sampler and /var/lib/sampler
                           (--uninstall --purge says the same)

Options:
  --deb FILE     the package to install (sampler_VERSION_ARCH.deb)
  --uninstall    remove the package, keep the configuration and the records
  --purge        remove everything sampler installed or made
  -h, --help     this text

Needs root. Exit status: 0 done; 1 a step failed (the message says which); 2 bad options.
EOF
}

arguments=$*
deb=
action=install
purge=no
while [ $# -gt 0 ]; do
  case "$1" in
    --deb) deb=${2:?--deb needs a file}; shift 2 ;;
    --deb=*) deb=${1#*=}; shift ;;
    --uninstall) action=uninstall; shift ;;
    --purge) purge=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$purge" = yes ] && action=uninstall
if [ "$action" = uninstall ] && [ -n "$deb" ]; then
  echo "install.sh: --deb installs; it does not go with --uninstall or --purge" >&2
  exit 2
fi

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=/etc/sampler/sampler.conf
say() { echo "install.sh: $*"; }
fail() { echo "install.sh: $*" >&2; exit 1; }
apt() { DEBIAN_FRONTEND=noninteractive apt-get "$@"; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# systemd is the init system here (sd_booted(3)'s test).
systemd_runs() { [ -d /run/systemd/system ]; }

# A package to install: the given file, checked before anything changes.
check_deb() {
  [ -f "$deb" ] || fail "$deb: no such file (build one with scripts/package-deb OUTDIR, on a machine with Swift)"
  local name
  name=$(dpkg-deb --field "$deb" Package 2>/dev/null) || fail "$deb is not a Debian package"
  [ "$name" = sampler ] || fail "$deb is the package '$name', not sampler"
}

build_deb() {
  command -v swift >/dev/null || fail "swift is not on PATH, so there is nothing to build with here.
  On a host without Swift: build the package where Swift is (scripts/package-deb OUTDIR, or
  ./install.sh there), copy sampler_*.deb here and run: ./install.sh --deb sampler_VERSION_ARCH.deb
  To build here: put Swift 6.3 on PATH (export PATH=/opt/swift/usr/bin:\$PATH)"
  local needed=(libmnl-dev libnetfilter-log-dev libloc-dev dpkg-dev binutils) missing=() p
  for p in "${needed[@]}"; do
    installed "$p" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing what the build needs: ${missing[*]}"
    apt update -qq || fail "apt-get update failed (the output above says why)"
    apt install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || fail "apt-get could not install ${missing[*]}"
  fi
  local out=$source_dir/.build-deb/dist
  rm -f "$out"/sampler_*.deb
  say "building the package (scripts/package-deb $out; a first build takes minutes)"
  deb=$("$source_dir/scripts/package-deb" "$out" | tail -1) || fail "the package build failed (the output above says why)"
  say "built $deb (install it on other hosts with: ./install.sh --deb $(basename "$deb"), or apt-get install ./$(basename "$deb"))"
}

do_install() {
  if [ -n "$deb" ]; then check_deb; else build_deb; fi
  # apt-get reads a local package as its sandbox user _apt: a copy in a directory anyone
  # may read spares the "couldn't be accessed by user '_apt'" notice.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  chmod 0755 "$tmp"
  install -m 0644 "$deb" "$tmp/"
  # The dependencies come from the apt sources: a fresh host may have no package lists yet.
  say "updating the package lists (apt-get update)"
  apt update -qq || fail "apt-get update failed (the output above says why)"
  say "installing $(basename "$deb") (apt-get install; it fetches the Debian packages it depends on)"
  # --reinstall: the same version again after a rebuild still replaces the files.
  # confold/confdef: an edited sampler.conf stays; the new one goes to .dpkg-dist.
  # libloc-database, which the package only recommends, is named when it is missing (and
  # only then: --reinstall would fetch it again): the client AS and country come from it,
  # and no other recommendation is wanted.
  local extra=()
  installed libloc-database || extra+=(libloc-database)
  apt install -y --reinstall --allow-downgrades --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$tmp/$(basename "$deb")" "${extra[@]}" \
    || fail "apt-get could not install $deb (the output above says why)"
  [ -e "$config.dpkg-dist" ] && say "kept your $config; the new defaults are in $config.dpkg-dist (compare: diff $config $config.dpkg-dist)"
  sampler config check "$config" >/dev/null \
    || fail "$config is not valid for sampler $(sampler --version) (the message above names the key): fix it, then: systemctl restart sampler.service"
  say "installed sampler $(sampler --version)"

  if systemd_runs; then
    systemctl is-active --quiet sampler.service \
      || fail "sampler.service is not running: journalctl -u sampler.service says why"
    say "sampler.service is enabled and running"
    # Until the daemon has bound its group and its socket, status would say it is not running.
    for _ in $(seq 50); do [ -S /run/sampler/status.sock ] && break; sleep 0.2; done
    sampler status --config "$config" || true
  else
    say "systemd is not running here (a container?), so there is no service to start"
    say "run sampler in the foreground (as root; it installs the rules and removes them on exit) with:"
    echo "  sampler run --install-rules --config $config"
  fi
}

do_uninstall() {
  local verb=remove
  [ "$purge" = yes ] && verb=purge
  if ! dpkg-query -W -f='${db:Status-Status}' sampler 2>/dev/null | grep -qv '^not-installed$'; then
    say "sampler is not installed; nothing to $verb"
    return
  fi
  apt "$verb" -y sampler || fail "apt-get $verb sampler failed (the output above says why)"
  if [ "$purge" = yes ]; then
    say "purged sampler: its files, /etc/sampler and /var/lib/sampler are gone"
  else
    say "removed sampler; kept /etc/sampler and /var/lib/sampler (./install.sh --purge removes them)"
  fi
}

[ "$(id -u)" -eq 0 ] || fail "run it as root (apt-get installs and removes packages): sudo ./install.sh $arguments"
if [ "$action" = install ]; then do_install; else do_uninstall; fi
