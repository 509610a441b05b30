#!/usr/bin/env bash
# Smoke test of a deployment: scripts/smoke.sh [--insecure] [--resolve HOST:PORT:ADDRESS] BASE_URL USERNAME
# Health, login (password asked at a prompt), current user, an image upload, license counts, the
# uploaded image's deletion, logout; each step prints its HTTP status, and the last line is the
# verdict. The server is left as it was: the image it uploads is deleted again.
#   --insecure                  accept a certificate curl cannot verify (a staging certificate)
#   --resolve HOST:PORT:ADDRESS send requests for HOST:PORT to ADDRESS (a host not yet in DNS,
#                               or one server behind a balancer); passed to curl as is
set -uo pipefail

usage() {
  echo "usage: $0 [--insecure] [--resolve HOST:PORT:ADDRESS] BASE_URL USERNAME   (e.g. $0 https://shop.example.com admin)" >&2
  exit 2
}
CURL_OPTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --insecure) CURL_OPTS+=(--insecure); shift ;;
    --resolve) [ $# -ge 2 ] || usage; CURL_OPTS+=(--resolve "$2"); shift 2 ;;
    --resolve=*) CURL_OPTS+=(--resolve "${1#--resolve=}"); shift ;;
    -h | --help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || usage
BASE="${1%/}"
USERNAME="$2"
if [ -t 0 ]; then
  read -r -s -p "Password for ${USERNAME}: " PASSWORD
  echo
else
  IFS= read -r PASSWORD
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
JAR="$WORK/cookies.txt"
FAILED=0

# step NAME EXPECTED_STATUS curl-args...
step() {
  local name="$1" expected="$2"
  shift 2
  local status
  status="$(curl -sS ${CURL_OPTS[@]+"${CURL_OPTS[@]}"} -o "$WORK/body" -w '%{http_code}' -b "$JAR" -c "$JAR" "$@" 2>"$WORK/err")" || status="000"
  if [ "$status" = "$expected" ]; then
    printf 'ok    %-16s %s\n' "$name" "$status"
  else
    printf 'FAIL  %-16s %s (expected %s) %s%s\n' "$name" "$status" "$expected" "$(head -c 300 "$WORK/body" 2>/dev/null)" "$(head -c 200 "$WORK/err")"
    FAILED=$((FAILED + 1))
  fi
}

# A 1x1 PNG, written from its bytes.
printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82' >"$WORK/smoke.png"

LOGIN_JSON="$(node -e 'process.stdout.write(JSON.stringify({username: process.argv[1], password: process.argv[2]}))' "$USERNAME" "$PASSWORD" 2>/dev/null)" ||
  LOGIN_JSON="{\"username\":\"${USERNAME}\",\"password\":\"${PASSWORD}\"}"

step health          200 "$BASE/health"
step login           200 -X POST -H 'content-type: application/json' --data-binary @- "$BASE/api/login" <<<"$LOGIN_JSON"
step user            200 "$BASE/api/user"
step upload          200 -F "image=@$WORK/smoke.png;type=image/png" "$BASE/api/admin/upload-image"
UPLOADED="$(sed -n 's/.*"filename":"\([0-9a-f]*\.[a-z]*\)".*/\1/p' "$WORK/body" 2>/dev/null)"
step license-counts  200 "$BASE/api/admin/license-counts"
# Only when the upload stored something; a failed upload has already failed the run.
[ -n "$UPLOADED" ] && step delete-upload 204 -X DELETE "$BASE/api/admin/upload-image/$UPLOADED"
step logout          200 -X POST "$BASE/api/logout"
step user-after      401 "$BASE/api/user"

if [ "$FAILED" -eq 0 ]; then
  echo "VERDICT: PASS (all steps answered as expected)"
else
  echo "VERDICT: FAIL ($FAILED step(s) failed)"
  exit 1
fi
