#!/usr/bin/env bash
# Installs the Debian packages the project needs (OCR, JDK, Redis, CJK fonts, Chromium).
# Idempotent: packages already present are not touched, so a second run costs a few seconds.
set -euo pipefail

PACKAGES=(
  tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-osd
  openjdk-17-jre-headless maven
  redis-server
  fonts-noto-cjk fonts-wqy-zenhei
  unzip curl
  chromium chromium-driver
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[install_system] all Debian packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "[install_system] missing packages: ${missing[*]}; run this script as root (or install them yourself)" >&2
  exit 1
fi

echo "[install_system] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
