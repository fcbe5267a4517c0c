# Windows host package, run ON Windows (CI: .github/workflows/host.yml) with
# JDK 25 and after `mvn package`: jpackage makes qbnet\qbnet.exe (a console
# launcher) with the trimmed runtime of ..\modules.txt; libusb-1.0.dll (the
# official libusb release, pinned by version and SHA-256) goes beside qbnet.jar,
# where qbnet looks first; all of it in a zip. -Msi also makes an .msi when
# jpackage finds the WiX toolset. No driver install: Windows binds WinUSB to the
# board from its Microsoft OS descriptors.
# Usage: pwsh host/packaging/windows/build.ps1 [-Msi]   (output in host\target\dist-windows)
param([switch]$Msi)
$ErrorActionPreference = 'Stop'
$here = $PSScriptRoot
$hostDir = (Resolve-Path "$here\..\..").Path
if (-not $env:JAVA_HOME) { throw "set JAVA_HOME to a JDK 25" }
$java = Join-Path $env:JAVA_HOME 'bin\java.exe'
$jar = Join-Path $hostDir 'target\qbnet.jar'
$out = Join-Path $hostDir 'target\dist-windows'
if (-not (Test-Path $jar)) { throw "build first: cd host; mvn package -DskipTests" }

# libusb: the official Windows binaries of this release; the archive's SHA-256 is pinned.
$libusbVersion = '1.0.29'
$libusbSha256 = '964A38152CA9A104CD00EC8D2F0617B89CD814F9B635E29763C68563D951521D'
$libusbUrl = "https://github.com/libusb/libusb/releases/download/v$libusbVersion/libusb-$libusbVersion.7z"

$version = (& $java -jar $jar --version).Split(' ')[1]
if (Test-Path $out) { Remove-Item -Recurse -Force $out }
New-Item -ItemType Directory -Force "$out\input", "$out\libusb" | Out-Null
Copy-Item $jar "$out\input\qbnet.jar"

& "$env:JAVA_HOME\bin\jlink.exe" --add-modules (Get-Content "$here\..\modules.txt").Trim() --strip-debug `
    --no-header-files --no-man-pages --compress=zip-6 --generate-cds-archive --output "$out\runtime"
if ($LASTEXITCODE -ne 0) { throw "jlink failed" }
& "$env:JAVA_HOME\bin\jpackage.exe" --type app-image --name qbnet --input "$out\input" --main-jar qbnet.jar `
    --main-class dev.qbkit.qbnet.Main --java-options '--enable-native-access=ALL-UNNAMED' `
    --runtime-image "$out\runtime" --app-version $version --win-console --dest $out
if ($LASTEXITCODE -ne 0) { throw "jpackage app-image failed" }

$archive = "$out\libusb\libusb-$libusbVersion.7z"
Invoke-WebRequest -Uri $libusbUrl -OutFile $archive
$got = (Get-FileHash -Algorithm SHA256 $archive).Hash
if ($got -ne $libusbSha256) { throw "libusb-$libusbVersion.7z has SHA-256 $got, not the pinned $libusbSha256" }
# Windows' bsdtar reads 7z.
& tar.exe -xf $archive -C "$out\libusb"
if ($LASTEXITCODE -ne 0) { throw "cannot unpack $archive" }
Copy-Item "$out\libusb\VS2022\MS64\dll\libusb-1.0.dll" "$out\qbnet\app\libusb-1.0.dll"
Copy-Item "$out\libusb\COPYING" "$out\qbnet\app\libusb-COPYING.txt" -ErrorAction SilentlyContinue

# The launcher runs, and libusb loads from beside the jar (no boards on a CI runner: exit 0).
$v = & "$out\qbnet\qbnet.exe" --version
if ($LASTEXITCODE -ne 0 -or $v -notmatch "^qbnet $version ") { throw "qbnet.exe --version said: $v" }
& "$out\qbnet\qbnet.exe" list
if ($LASTEXITCODE -ne 0) { throw "qbnet.exe list failed: libusb-1.0.dll not loaded?" }

# PowerShell 7's .NET writes zip entries with forward slashes, as the zip format wants.
Add-Type -AssemblyName System.IO.Compression.FileSystem
$zip = "$out\qbnet-$version-windows-x64.zip"
[System.IO.Compression.ZipFile]::CreateFromDirectory("$out\qbnet", $zip, 'Optimal', $true)

if ($Msi) {
    & "$env:JAVA_HOME\bin\jpackage.exe" --type msi --name qbnet --app-image "$out\qbnet" --app-version $version `
        --win-dir-chooser --win-per-user-install --dest $out
    if ($LASTEXITCODE -ne 0) { throw "jpackage msi failed (is the WiX toolset installed?)" }
}
Remove-Item -Recurse -Force "$out\input", "$out\runtime", "$out\libusb"
Get-ChildItem $out
