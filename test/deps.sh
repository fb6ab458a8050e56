#!/bin/sh
# Install every build and test dependency from Debian's packages, idempotently.
# The servers (nginx, redis, PostgreSQL, MariaDB) are test peers: the tests start their
# own instances on loopback ports; the packages' system services are not used.
# Runs apt-get through $SUDO (empty when already root). libbpf >= 1.4 and
# bpftool come from bookworm-backports: Debian 12's libbpf 1.1 lacks
# uprobe_multi.
set -eu

PKGS="clang llvm gcc make pkg-config libelf-dev zlib1g-dev libseccomp-dev libcap-dev
      libjansson-dev check jq util-linux procps clang-format gawk
      libnghttp2-dev libpcap-dev libssl-dev libpg-query-dev
      nginx curl openssl redis-server redis-tools postgresql postgresql-client wrk
      mariadb-server mariadb-client libdbd-mariadb-perl tcpdump"
BACKPORTS_PKGS="libbpf-dev bpftool"
SUDO=${SUDO-}

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

# Installed, and new enough (epoch 1:, upstream >= 1.4)?
libbpf_ok() {
	v=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge "1:1.4"
}
bpftool_ok() {
	v=$(dpkg-query -W -f='${Version}' bpftool 2>/dev/null) || return 1
	dpkg --compare-versions "$v" ge "7.4"
}
need_bpo=""
libbpf_ok || need_bpo="yes"
bpftool_ok || need_bpo="yes"

# Test-only Node tooling: test/otlp (the strict OTLP/HTTP receiver the exporter tests post to)
# installs its npm packages at the exact versions of its package-lock.json. A stamp copy of the
# lock marks a finished install, so a rerun with an unchanged lock needs no network.
otlp_receiver_deps() {
	dir=$(dirname "$0")/otlp
	stamp=$dir/node_modules/.bpfwarden-lock
	if cmp -s "$dir/package-lock.json" "$stamp"; then
		return 0
	fi
	if ! command -v npm >/dev/null 2>&1; then
		echo "deps: npm not found: install Node.js >= 18 with npm (Debian: nodejs npm)" >&2
		exit 1
	fi
	echo "deps: installing test/otlp's npm packages (npm ci)"
	npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
	cp "$dir/package-lock.json" "$stamp"
}

if [ -z "$missing" ] && [ -z "$need_bpo" ]; then
	otlp_receiver_deps
	echo "deps: all build and test dependencies are installed"
	exit 0
fi

if [ -n "$need_bpo" ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "deps: adding Debian's bookworm-backports suite (for libbpf >= 1.4 and bpftool)"
	printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' \
		'Suites: bookworm-backports' 'Components: main' \
		'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
		$SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
fi

echo "deps: installing:${missing}${need_bpo:+ $BACKPORTS_PKGS (bookworm-backports)}"
$SUDO apt-get update -qq
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
if [ -n "$need_bpo" ]; then
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports $BACKPORTS_PKGS
fi
libbpf_ok || { echo "deps: libbpf-dev >= 1.4 could not be installed" >&2; exit 1; }
otlp_receiver_deps
