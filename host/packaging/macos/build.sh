#!/bin/bash
# macOS host packages, run ON macOS (CI: .github/workflows/host.yml) with JDK 25
# and after `mvn package`: jpackage makes qbnet.app (a native launcher and the
# trimmed runtime of ../modules.txt), shipped as a tarball and as a .pkg that
# installs it in /Applications and links /usr/local/bin/qbnet. libusb comes from
# Homebrew (`brew install libusb`), as the error message says when it is missing.
# Usage: host/packaging/macos/build.sh   (output in host/target/dist-macos)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOST=$(cd "$HERE/../.." && pwd)
: "${JAVA_HOME:?set JAVA_HOME to a JDK 25}"
JAR=$HOST/target/qbnet.jar
OUT=$HOST/target/dist-macos
die() { echo "macos-build: $*" >&2; exit 1; }
[ "$(uname -s)" = Darwin ] || die "run me on macOS (jpackage makes packages for the OS it runs on)"
[ -f "$JAR" ] || die "build first: (cd host && mvn package -DskipTests)"
version=$("$JAVA_HOME/bin/java" -jar "$JAR" --version | awk '{ print $2; exit }')
arch=$(uname -m)
rm -rf "$OUT"
mkdir -p "$OUT/input"
cp "$JAR" "$OUT/input/qbnet.jar"

"$JAVA_HOME/bin/jlink" --add-modules "$(cat "$HERE/../modules.txt")" --strip-debug --no-header-files \
	--no-man-pages --compress=zip-6 --generate-cds-archive --output "$OUT/runtime"
# macOS bundle versions must start with a number above 0: 0.x.y is packaged as 1.0 and said so.
app_version=$version
case $version in 0.*) app_version=1.0; echo "macos-build: qbnet $version is packaged with bundle version 1.0" ;; esac
"$JAVA_HOME/bin/jpackage" --type app-image --name qbnet --input "$OUT/input" --main-jar qbnet.jar \
	--main-class dev.qbkit.qbnet.Main --java-options --enable-native-access=ALL-UNNAMED \
	--runtime-image "$OUT/runtime" --app-version "$app_version" \
	--mac-package-identifier dev.qbkit.qbnet --dest "$OUT"
launcher=$OUT/qbnet.app/Contents/MacOS/qbnet
"$launcher" --version | grep -q "qbnet $version" || die "the app's launcher does not run"
tar -C "$OUT" -czf "$OUT/qbnet-$version-macos-$arch.tar.gz" qbnet.app
"$JAVA_HOME/bin/jpackage" --type pkg --name qbnet --app-image "$OUT/qbnet.app" --app-version "$app_version" \
	--mac-package-identifier dev.qbkit.qbnet --resource-dir "$HERE/resources" --dest "$OUT"
mv "$OUT/qbnet-$app_version.pkg" "$OUT/qbnet-$version-macos-$arch.pkg"
rm -rf "$OUT/input" "$OUT/runtime"
ls -l "$OUT"
