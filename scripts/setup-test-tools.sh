#!/usr/bin/env bash
# Installs what the test suite needs and a fresh machine of this kind may
# lack: OpenBLAS (Debian), and the pinned Python tools the AWS tests drive
# (moto's S3 server, the CloudFormation and state-machine linters). Idempotent.
set -euo pipefail

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
    $sudo_cmd apt-get update && $sudo_cmd apt-get install -y libopenblas-dev
fi

# name==version as pip sees it, then the spec to install it by.
pins=(
    "moto==5.2.1 moto[server]==5.2.1"
    "cfn-lint==1.51.0 cfn-lint==1.51.0"
    "statelint==3.1.0 statelint==3.1.0"
)
missing=()
for pin in "${pins[@]}"; do
    read -r installed spec <<<"$pin"
    name=${installed%%==*}
    version=${installed##*==}
    have=$(python3 -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)
    [ "$have" = "$version" ] || missing+=("$spec")
done
# moto's server needs flask; a moto installed without the [server] extra lacks it.
python3 -c "import flask, flask_cors" 2>/dev/null || missing+=("moto[server]==5.2.1")
if [ ${#missing[@]} -gt 0 ]; then
    python3 -m pip install --quiet "${missing[@]}"
fi
