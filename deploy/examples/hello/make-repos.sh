#!/usr/bin/env bash
# Makes the hello example's two git repos under DIR, as a workflow reads them:
#   DIR/hello          the source repo (the static site in source/)
#   DIR/hello_docker   the deployment repo (Dockerfile.eex, docker.json, cluster.json, units.json, source.json)
# Both are bare, because the Builder pushes the rendered templates back to the deployment repo. Run again to start over.
# Usage: deploy/examples/hello/make-repos.sh DIR
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A bare repo at $2 holding the files of the directory $1 as one commit on main.
publish() {
  local tree=$1 bare=$2 message=$3
  git -C "$tree" init -q -b main
  git -C "$tree" add -A
  git -C "$tree" -c user.name='OpenAperture example' -c user.email='example@openaperture.invalid' commit -q -m "$message"
  rm -rf "$bare"
  git clone -q --bare "$tree" "$bare"
}

mkdir -p "$work/source" "$work/deployment"
cp -R "$here/source/." "$work/source/"
cp "$here/Dockerfile.eex" "$here/docker.json" "$here/cluster.json" "$here/units.json" "$work/deployment/"
# Where the source lives, so `workflow run` needs no --source-repo (a workflow's own values win, if given).
printf '{\n  "source_repo": "file://%s/hello",\n  "source_repo_git_ref": "main"\n}\n' "$dir" >"$work/deployment/source.json"

publish "$work/source" "$dir/hello" 'The hello example site'
publish "$work/deployment" "$dir/hello_docker" 'The hello example deployment'

echo "source repo:     file://$dir/hello"
echo "deployment repo: file://$dir/hello_docker"
echo "run it:          openaperture workflow run file://$dir/hello_docker --source-repo file://$dir/hello"
