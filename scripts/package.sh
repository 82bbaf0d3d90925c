#!/usr/bin/env bash
# Builds leakwatch's release artifacts into dist/:
#
#   leakwatch_VERSION_ARCH.deb        Debian, Ubuntu (nfpm)
#   leakwatch-VERSION-1.ARCH.rpm      RHEL, Rocky, Alma, Fedora, SUSE (nfpm)
#   leakwatch_VERSION_windows_amd64.zip
#   SHA256SUMS                        sha256sum -c SHA256SUMS checks them
#
# Usage: scripts/package.sh [--arch amd64|arm64] [--out DIR]
#
#   --arch  CPU of the Linux packages (default amd64); the zip is always
#           windows/amd64
#   --out   where the artifacts go (default dist)
#
# VERSION (env) is the version; by default the git tag on HEAD without its
# "v", else 0.0.0+git<commit time>.<commit>, which sorts by time for both
# dpkg and rpm. Needs go, git, zip and sha256sum. nfpm is installed, at the
# pinned version below, into bin/ with go install; it is not a module
# dependency of leakwatch.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0

arch=amd64
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$arch" in amd64|arm64) ;; *) echo "package.sh: --arch must be amd64 or arm64" >&2; exit 2 ;; esac
for tool in go git zip sha256sum; do
  command -v "$tool" >/dev/null || { echo "package.sh: needs $tool" >&2; exit 1; }
done

if [ -z "${VERSION:-}" ]; then
  if tag=$(git describe --tags --exact-match 2>/dev/null); then
    VERSION=${tag#v}
  else
    VERSION="0.0.0+git$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S).$(git rev-parse --short=12 HEAD)"
  fi
fi
REVISION=$(git rev-parse HEAD)
git diff --quiet HEAD -- 2>/dev/null || REVISION="$REVISION-dirty"
export VERSION

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/leakwatch[_-]*.deb "$out"/leakwatch[_-]*.rpm "$out"/leakwatch_*_windows_*.zip "$out/SHA256SUMS"

pkg=github.com/leakwatch/leakwatch/internal/version
ldflags="-s -w -X $pkg.Version=$VERSION -X $pkg.Revision=$REVISION"
build() { # GOOS GOARCH OUTPUT
  echo "== go build $1/$2"
  CGO_ENABLED=0 GOOS=$1 GOARCH=$2 go build -trimpath -ldflags "$ldflags" -o "$3" ./cmd/leakwatch
}

build linux "$arch" "$work/linux/leakwatch"
GOBIN="$PWD/bin" go install "$NFPM"
for packager in deb rpm; do
  echo "== nfpm $packager"
  GOARCH=$arch BINARY="$work/linux/leakwatch" \
    bin/nfpm package --config packaging/nfpm.yaml --packager "$packager" --target "$out/"
done

zipname="leakwatch_${VERSION}_windows_amd64"
zipdir="$work/$zipname"
mkdir -p "$zipdir/examples"
build windows amd64 "$zipdir/leakwatch.exe"
# The same config, with the Windows state directory.
sed 's|^state_dir: /var/lib/leakwatch$|state_dir: '"'"'C:\\ProgramData\\leakwatch'"'"'|' \
  config/leakwatch.yaml >"$zipdir/leakwatch.yaml"
grep -q "^state_dir: 'C:\\\\ProgramData\\\\leakwatch'$" "$zipdir/leakwatch.yaml" || {
  echo "package.sh: config/leakwatch.yaml no longer has the state_dir line to rewrite" >&2; exit 1; }
# The Windows config must load as it is shipped (the Linux binary reads it
# the same way; only state_dir's meaning differs).
"$work/linux/leakwatch" check --config "$zipdir/leakwatch.yaml" >/dev/null ||
  { echo "package.sh: the Windows leakwatch.yaml does not pass leakwatch check" >&2; exit 1; }
cp README.md "$zipdir/"
cp config/prometheus/alerts.yml dashboards/cms-webbridge-leaks.json "$zipdir/examples/"
echo "== zip windows/amd64"
(cd "$work" && zip -q -X -r "$out/$zipname.zip" "$zipname")

(cd "$out" && sha256sum leakwatch[_-]*.deb leakwatch[_-]*.rpm "$zipname.zip" >SHA256SUMS)
echo "== $out"
(cd "$out" && ls -l leakwatch[_-]*.deb leakwatch[_-]*.rpm "$zipname.zip" SHA256SUMS)
