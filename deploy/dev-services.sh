#!/usr/bin/env bash
# deploy/dev-services.sh - install (from Debian packages) and start, on loopback
# only, every real service the OpenAperture test suite talks to:
#   PostgreSQL 127.0.0.1:5432, RabbitMQ rabbit@localhost :5672 and
#   rabbit2@localhost :5673, dockerd on /var/run/docker.sock, an offline
#   busybox base image, docker-registry :5000 (open) and :5001 (basic auth),
#   sshd 127.0.0.1:2222 (key auth for root), and the haproxy (2.6) executable
#   the proxy suites start their own instances of (nothing is started here).
#
# Idempotent: each service is probed first and only started when it does not
# answer.  stdout carries nothing but `export NAME=value` lines, so callers do
#   eval "$(deploy/dev-services.sh)"
# Progress goes to stderr.  Set OA_DEV_SELFTEST=1 to force the (slower)
# functional self-tests that otherwise run only for services started now.
# See deploy/README-services.md.
set -Eeuo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
export LC_ALL=C.UTF-8

STATE_DIR=/var/lib/openaperture-dev
LOG_DIR=/var/log/openaperture-dev
RUN_DIR=$STATE_DIR/run                      # pid files we own

PG_PORT=5432
PG_DB=openaperture_test
RABBIT1_NODE=rabbit@localhost
RABBIT1_PORT=5672
RABBIT2_NODE=rabbit2@localhost
RABBIT2_PORT=5673
RABBIT2_DIST_PORT=25673
RABBIT2_DIR=$STATE_DIR/rabbit2
DOCKER_SOCK=/var/run/docker.sock
DOCKER_DIR=$STATE_DIR/docker
BASE_IMAGE=openaperture/busybox:latest
REG_PORT=5000
REG_AUTH_PORT=5001
REG_USER=oa
REG_PASSWORD=oa-secret
REG_DIR=$STATE_DIR/registry
REG_AUTH_DIR=$STATE_DIR/registry-auth
SSH_PORT=2222
SSH_DIR=$STATE_DIR/ssh
SSH_KEY=$SSH_DIR/id_ed25519

export DOCKER_HOST=unix://$DOCKER_SOCK
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH 2>/dev/null || true

SELFTEST=${OA_DEV_SELFTEST:-0}
STEP=setup

log() { printf '[dev-services] %s\n' "$*" >&2; }
die() {
  printf '[dev-services] ERROR (%s): %s\n' "$STEP" "$*" >&2
  exit 1
}
on_err() {
  local rc=$? line=$1 cmd=$2
  printf '[dev-services] ERROR (%s): command failed (exit %s) at line %s: %s\n' \
    "$STEP" "$rc" "$line" "$cmd" >&2
}
trap 'on_err "$LINENO" "$BASH_COMMAND"' ERR

# Show the last lines of a log file on stderr (for error messages).
tail_log() { [[ -f $1 ]] && { log "--- last lines of $1:"; tail -n "${2:-25}" "$1" >&2 || true; }; return 0; }

# wait_for SECONDS DESCRIPTION COMMAND... : retry COMMAND every 0.5 s.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "timed out after ${secs}s waiting for $what"; return 1; }
    sleep 0.5
  done
}

tcp_open() { timeout 2 bash -c "exec 9<>/dev/tcp/$1/$2" 2>/dev/null; }

# pid_alive PIDFILE [COMM]: pid file names a live process (optionally with that comm).
pid_alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(<"$1"); pid=${pid//[^0-9]/}
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -z ${2:-} ]] || [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2"* ]]
}

# Start a long-running foreground program in its own session, detached from
# our stdin/stdout/stderr (so neither `$(...)` nor a CI pipe waits for it),
# and record its pid.
spawn() {
  local pidfile=$1 logfile=$2; shift 2
  # No job control here, so the background child is not a group leader and
  # setsid execs in place: $! is the daemon's own pid.
  nohup setsid "$@" </dev/null >>"$logfile" 2>&1 &
  echo $! >"$pidfile"
}

########################################################################
# 0. Packages
########################################################################
install_packages() {
  STEP=packages
  local wanted=(postgresql rabbitmq-server docker.io docker-registry openssh-server
                busybox-static apache2-utils git curl iptables haproxy)
  local missing=() p
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
      || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing missing Debian packages: ${missing[*]}"
  # Keep maintainer scripts from starting services on default ports/addresses
  # (sshd on :22, docker-registry on :5000, haproxy, ...): we start our own below.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; made_policy=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  } </dev/null >&2 || rc=$?
  ((made_policy)) && rm -f "$policy"
  ((rc == 0)) || die "apt-get install ${missing[*]} failed (exit $rc)"
}

########################################################################
# 1. PostgreSQL
########################################################################
pg_psql() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -w -X -q -At "$@"; }

start_postgres() {
  STEP=postgresql
  if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 3; then
    local ver
    ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)
    if [[ -z $ver ]]; then
      ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1 || true)
      [[ -n $ver ]] || die "no PostgreSQL server installed"
      log "creating PostgreSQL $ver cluster 'main'"
      pg_createcluster "$ver" main -- --auth-local=trust --auth-host=trust </dev/null >&2
    fi
    log "starting PostgreSQL $ver/main"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start </dev/null >>"$LOG_DIR/postgresql-start.log" 2>&1 \
      || { tail_log "$LOG_DIR/postgresql-start.log"; tail_log "/var/log/postgresql/postgresql-$ver-main.log";
           die "PostgreSQL could not be started"; }
    wait_for 60 "PostgreSQL on 127.0.0.1:$PG_PORT" pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2 \
      || die "PostgreSQL does not answer on 127.0.0.1:$PG_PORT"
  fi
  if ! pg_psql -d postgres -c 'select 1' >/dev/null 2>&1; then
    # Password/peer auth on a stock cluster: make loopback trust (test machine).
    local ver hba
    ver=$(ls /etc/postgresql | sort -V | tail -n1)
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    log "enabling trust auth for 127.0.0.1 in $hba"
    sed -i '1i host all all 127.0.0.1/32 trust\nlocal all all trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload </dev/null >&2
    wait_for 15 "PostgreSQL trust auth" pg_psql -d postgres -c 'select 1' \
      || die "cannot connect to PostgreSQL as postgres without a password"
  fi
  if [[ $(pg_psql -d postgres -c "select 1 from pg_database where datname = '$PG_DB'") != 1 ]]; then
    log "creating database $PG_DB"
    pg_psql -d postgres -c "create database $PG_DB" >&2 || die "cannot create database $PG_DB"
  fi
}

########################################################################
# 2. RabbitMQ (two independent nodes)
########################################################################
# Minimal AMQP 0-9-1 handshake (PLAIN auth, open vhost "/") with Node.js:
# proves the broker accepts the credentials, not only that the port is open.
AMQP_CHECK_JS='
const net = require("net");
const u = new URL(process.env.AMQP_CHECK_URL);
const user = decodeURIComponent(u.username || "guest"), pass = decodeURIComponent(u.password || "guest");
const fail = (m) => { console.error("amqp check " + u.host + ": " + m); process.exit(1); };
setTimeout(() => fail("timeout"), 8000).unref();
const s = net.connect(+(u.port || 5672), u.hostname);
const shortstr = (t) => Buffer.concat([Buffer.from([Buffer.byteLength(t)]), Buffer.from(t)]);
const longstr = (b) => { const l = Buffer.alloc(4); l.writeUInt32BE(b.length); return Buffer.concat([l, b]); };
const method = (cls, mth, args) => {
  const p = Buffer.concat([Buffer.from([cls >> 8, cls & 255, mth >> 8, mth & 255]), args]);
  const h = Buffer.alloc(7); h.writeUInt8(1, 0); h.writeUInt16BE(0, 1); h.writeUInt32BE(p.length, 3);
  return Buffer.concat([h, p, Buffer.from([0xce])]);
};
let buf = Buffer.alloc(0), done = false;
s.on("connect", () => s.write(Buffer.from([65, 77, 81, 80, 0, 0, 9, 1])));
s.on("error", (e) => fail(e.message));
s.on("close", () => { if (!done) fail("connection closed by broker (credentials refused?)"); });
s.on("data", (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 7) {
    const size = buf.readUInt32BE(3);
    if (buf.length < size + 8) return;
    const type = buf[0], p = buf.subarray(7, 7 + size);
    buf = buf.subarray(size + 8);
    if (type !== 1) continue;
    const id = p.readUInt16BE(0) + "." + p.readUInt16BE(2);
    if (id === "10.10") {
      s.write(method(10, 11, Buffer.concat([Buffer.from([0, 0, 0, 0]), shortstr("PLAIN"),
        longstr(Buffer.from("\0" + user + "\0" + pass)), shortstr("en_US")])));
    } else if (id === "10.30") {
      s.write(method(10, 31, Buffer.from(p.subarray(4, 12))));
      s.write(method(10, 40, Buffer.concat([shortstr(decodeURIComponent(u.pathname.slice(1)) || "/"), shortstr(""), Buffer.from([0])])));
    } else if (id === "10.41") {
      done = true;
      s.write(method(10, 50, Buffer.concat([Buffer.from([0, 200]), shortstr("bye"), Buffer.from([0, 0, 0, 0])])));
      setTimeout(() => process.exit(0), 50);
    } else if (id === "10.50") {
      fail("broker closed connection: " + p.subarray(7, 7 + p[6]).toString());
    }
  }
});
'
amqp_check() { AMQP_CHECK_URL=$1 timeout 15 node -e "$AMQP_CHECK_JS"; }

rabbit_ping() { timeout 30 rabbitmq-diagnostics -q -n "$1" ping >/dev/null 2>&1; }

# Environment of the second node: everything of its own but the Erlang cookie
# (the rabbitmq user's ~/.erlang.cookie, shared with rabbit@localhost and the CLI).
rabbit2_env() {
  env RABBITMQ_CONF_ENV_FILE="$RABBIT2_DIR/rabbitmq-env.conf" \
      RABBITMQ_NODENAME="$RABBIT2_NODE" \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
      RABBITMQ_NODE_PORT="$RABBIT2_PORT" \
      RABBITMQ_DIST_PORT="$RABBIT2_DIST_PORT" \
      RABBITMQ_CONFIG_FILE="$RABBIT2_DIR/rabbitmq.conf" \
      RABBITMQ_ADVANCED_CONFIG_FILE="$RABBIT2_DIR/advanced.config" \
      RABBITMQ_MNESIA_BASE="$RABBIT2_DIR/mnesia" \
      RABBITMQ_LOG_BASE="$RABBIT2_DIR/log" \
      RABBITMQ_PID_FILE="$RABBIT2_DIR/rabbit2.pid" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT2_DIR/enabled_plugins" \
      ERL_EPMD_ADDRESS=127.0.0.1 \
      "$@"
}

enable_federation() { # NODE [env-wrapper...]
  local node=$1; shift
  if "$@" rabbitmq-plugins -q -n "$node" list -e -m 2>/dev/null | grep -qx rabbitmq_federation; then
    return 0
  fi
  log "enabling rabbitmq_federation on $node"
  if ! timeout 120 "$@" rabbitmq-plugins -q -n "$node" enable rabbitmq_federation </dev/null >&2; then
    log "WARNING: could not enable rabbitmq_federation on $node (continuing)"
  fi
}

# ensure_rabbit_app NODE PORT LOGFILE: the node answers ping; make sure its
# AMQP listener is up too.  If the node is still booting wait for it; if its
# application was stopped (e.g. left so by a test's stop_app), start_app.
ensure_rabbit_app() {
  local node=$1 port=$2 logfile=$3
  tcp_open 127.0.0.1 "$port" && return 0
  if [[ $(timeout 30 rabbitmqctl -q -n "$node" eval 'rabbit:is_booting().' 2>/dev/null) == true ]]; then
    log "$node is booting; waiting for it"
    timeout 130 rabbitmqctl -q -n "$node" await_startup --timeout 120 </dev/null >&2 || true
  fi
  if ! tcp_open 127.0.0.1 "$port"; then
    log "$node is up but its application is not running: start_app"
    timeout 120 rabbitmqctl -q -n "$node" start_app </dev/null >&2 || true
  fi
  wait_for 60 "127.0.0.1:$port" tcp_open 127.0.0.1 "$port" \
    || { tail_log "$logfile"; die "RabbitMQ $node does not listen on 127.0.0.1:$port"; }
}

start_rabbit1() {
  STEP="rabbitmq $RABBIT1_NODE"
  if ! rabbit_ping "$RABBIT1_NODE"; then
    log "starting RabbitMQ node $RABBIT1_NODE"
    local -a envs=()
    # A stock Debian install has none of this machine's loopback settings.
    grep -qs '^NODENAME=' /etc/rabbitmq/rabbitmq-env.conf || envs+=(RABBITMQ_NODENAME="$RABBIT1_NODE")
    grep -qs '^listeners\.tcp' /etc/rabbitmq/rabbitmq.conf \
      || envs+=(RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RABBIT1_PORT")
    grep -qs 'ERL_EPMD_ADDRESS' /etc/rabbitmq/rabbitmq-env.conf || envs+=(ERL_EPMD_ADDRESS=127.0.0.1)
    env "${envs[@]}" rabbitmq-server -detached </dev/null >>"$LOG_DIR/rabbit1-start.log" 2>&1 \
      || { tail_log "$LOG_DIR/rabbit1-start.log"; die "rabbitmq-server -detached failed"; }
    wait_for 120 "$RABBIT1_NODE to answer ping" rabbit_ping "$RABBIT1_NODE" \
      || { tail_log "$LOG_DIR/rabbit1-start.log"; die "RabbitMQ node $RABBIT1_NODE does not answer"; }
    timeout 130 rabbitmqctl -q -n "$RABBIT1_NODE" await_startup --timeout 120 </dev/null >&2 || true
  fi
  ensure_rabbit_app "$RABBIT1_NODE" "$RABBIT1_PORT" "$LOG_DIR/rabbit1-start.log"
  enable_federation "$RABBIT1_NODE"
  amqp_check "amqp://guest:guest@127.0.0.1:$RABBIT1_PORT" \
    || die "guest cannot open an AMQP connection to 127.0.0.1:$RABBIT1_PORT"
}

rabbit2_files() {
  install -d -o rabbitmq -g rabbitmq -m 0750 "$RABBIT2_DIR" "$RABBIT2_DIR/mnesia" "$RABBIT2_DIR/log"
  local f=$RABBIT2_DIR/rabbitmq-env.conf
  # Read by the rabbitmq scripts instead of /etc/rabbitmq/rabbitmq-env.conf.
  [[ -f $f ]] || cat >"$f" <<EOF
# generated by deploy/dev-services.sh: second, independent test node
NODENAME=$RABBIT2_NODE
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=$RABBIT2_PORT
DIST_PORT=$RABBIT2_DIST_PORT
CONFIG_FILE=$RABBIT2_DIR/rabbitmq.conf
ADVANCED_CONFIG_FILE=$RABBIT2_DIR/advanced.config
MNESIA_BASE=$RABBIT2_DIR/mnesia
LOG_BASE=$RABBIT2_DIR/log
PID_FILE=$RABBIT2_DIR/rabbit2.pid
ENABLED_PLUGINS_FILE=$RABBIT2_DIR/enabled_plugins
ERL_EPMD_ADDRESS=127.0.0.1
export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
  f=$RABBIT2_DIR/rabbitmq.conf
  [[ -f $f ]] || cat >"$f" <<EOF
# generated by deploy/dev-services.sh (listener comes from RABBITMQ_NODE_IP_ADDRESS/PORT)
loopback_users.guest = true
EOF
  f=$RABBIT2_DIR/enabled_plugins
  [[ -f $f ]] || { echo '[rabbitmq_federation].' >"$f"; chown rabbitmq:rabbitmq "$f"; }
  return 0
}

rabbit2_selftest() {
  log "self-test: stop_app / start_app on $RABBIT2_NODE"
  timeout 120 rabbitmqctl -q -n "$RABBIT2_NODE" stop_app </dev/null >&2 \
    || die "rabbitmqctl -n $RABBIT2_NODE stop_app failed"
  wait_for 20 "port $RABBIT2_PORT to close" bash -c "! timeout 2 bash -c 'exec 9<>/dev/tcp/127.0.0.1/$RABBIT2_PORT'" \
    || die "$RABBIT2_NODE still listens on $RABBIT2_PORT after stop_app"
  timeout 120 rabbitmqctl -q -n "$RABBIT2_NODE" start_app </dev/null >&2 \
    || die "rabbitmqctl -n $RABBIT2_NODE start_app failed"
  wait_for 60 "127.0.0.1:$RABBIT2_PORT after start_app" tcp_open 127.0.0.1 "$RABBIT2_PORT" \
    || die "$RABBIT2_NODE does not listen on $RABBIT2_PORT after start_app"
  amqp_check "amqp://guest:guest@127.0.0.1:$RABBIT2_PORT" \
    || die "guest cannot connect to 127.0.0.1:$RABBIT2_PORT after start_app"
  log "self-test: $RABBIT2_NODE stop_app/start_app ok, guest connects to :$RABBIT2_PORT"
}

start_rabbit2() {
  STEP="rabbitmq $RABBIT2_NODE"
  local started=0
  rabbit2_files
  if ! rabbit_ping "$RABBIT2_NODE"; then
    log "starting RabbitMQ node $RABBIT2_NODE on 127.0.0.1:$RABBIT2_PORT (dist port $RABBIT2_DIST_PORT)"
    rm -f "$RABBIT2_DIR/rabbit2.pid"
    rabbit2_env rabbitmq-server -detached </dev/null >>"$LOG_DIR/rabbit2-start.log" 2>&1 \
      || { tail_log "$LOG_DIR/rabbit2-start.log"; die "rabbitmq-server -detached failed for $RABBIT2_NODE"; }
    wait_for 120 "$RABBIT2_NODE to answer ping" rabbit_ping "$RABBIT2_NODE" \
      || { tail_log "$LOG_DIR/rabbit2-start.log"; tail_log "$RABBIT2_DIR/log/$RABBIT2_NODE.log";
           die "RabbitMQ node $RABBIT2_NODE does not answer"; }
    timeout 130 rabbitmqctl -q -n "$RABBIT2_NODE" await_startup --timeout 120 </dev/null >&2 || true
    started=1
  fi
  ensure_rabbit_app "$RABBIT2_NODE" "$RABBIT2_PORT" "$RABBIT2_DIR/log/$RABBIT2_NODE.log"
  enable_federation "$RABBIT2_NODE" rabbit2_env
  amqp_check "amqp://guest:guest@127.0.0.1:$RABBIT2_PORT" \
    || die "guest cannot open an AMQP connection to 127.0.0.1:$RABBIT2_PORT"
  if ((started)) || [[ $SELFTEST == 1 ]]; then rabbit2_selftest; fi
}

########################################################################
# 3. dockerd, base image
########################################################################
docker_ok() { timeout 10 docker info >/dev/null 2>&1; }

start_dockerd() {
  STEP=dockerd
  DOCKER_STARTED=0
  docker_ok && return 0
  install -d -m 0755 "$DOCKER_DIR"
  # Own config file (not /etc/docker/daemon.json).  "-p PORT:PORT" binds
  # 127.0.0.1 by default; no forwarding/masquerading, so containers can talk to
  # the host and each other but have no route off this machine.  127.0.0.0/8
  # is insecure by default; the two registries are listed anyway.
  cat >"$DOCKER_DIR/daemon.json.new" <<EOF
{
  "ip": "127.0.0.1",
  "ip-forward": false,
  "ip-masq": false,
  "insecure-registries": ["127.0.0.1:$REG_PORT", "127.0.0.1:$REG_AUTH_PORT"],
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "2"}
}
EOF
  mv -f "$DOCKER_DIR/daemon.json.new" "$DOCKER_DIR/daemon.json"
  local pidfile=$RUN_DIR/dockerd.pid
  if pid_alive "$pidfile" dockerd; then
    log "dockerd (pid $(<"$pidfile")) is running but not answering yet; waiting"
  else
    rm -f "$pidfile" /var/run/docker.pid
    log "starting dockerd (log $LOG_DIR/dockerd.log)"
    spawn "$pidfile" "$LOG_DIR/dockerd.log" \
      dockerd --host "$DOCKER_HOST" --config-file "$DOCKER_DIR/daemon.json" --pidfile /var/run/docker.pid
  fi
  if ! wait_for 90 "docker info" docker_ok; then
    tail_log "$LOG_DIR/dockerd.log" 40
    die "dockerd did not come up (see $LOG_DIR/dockerd.log)"
  fi
  DOCKER_STARTED=1
}

build_base_image() {
  STEP="base image"
  IMAGE_BUILT=0
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return 0
  local bb=/bin/busybox
  [[ -x $bb ]] || bb=$(command -v busybox) || die "busybox not found"
  log "building $BASE_IMAGE from $bb (docker import, no network)"
  local root
  root=$(mktemp -d "$STATE_DIR/busybox-root.XXXXXX")
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,var/www,home}
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  local applet
  while read -r applet; do
    [[ -n $applet && $applet != bin/busybox ]] || continue
    mkdir -p "$root/$(dirname "$applet")"
    [[ -e $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
  done < <("$bb" --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf - . \
    | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/sh"]' \
        --message 'openaperture dev base image (Debian busybox-static)' \
        - "$BASE_IMAGE" >&2
  rm -rf "$root"
  IMAGE_BUILT=1
}

docker_selftest() {
  STEP="docker self-test"
  log "self-test: docker run $BASE_IMAGE"
  local out
  # (stderr not captured: with ip-forward off the CLI warns "IPv4 forwarding is disabled")
  out=$(timeout 60 docker run --rm "$BASE_IMAGE" echo hi 2>"$LOG_DIR/selftest-docker-run.err") \
    || { cat "$LOG_DIR/selftest-docker-run.err" >&2; die "docker run $BASE_IMAGE echo hi failed"; }
  [[ $out == hi ]] || die "docker run printed '$out' instead of 'hi'"
  local port=39080 name=oa-dev-selftest-httpd
  while ss -Htln "sport = :$port" | grep -q .; do port=$((port + 1)); done
  docker rm -f "$name" >/dev/null 2>&1 || true
  timeout 60 docker run -d --name "$name" -p "127.0.0.1:$port:$port" "$BASE_IMAGE" \
    sh -c "mkdir -p /www && echo openaperture-ok >/www/index.html && exec httpd -f -p $port -h /www" >/dev/null \
    || die "could not start busybox httpd container"
  if ! wait_for 20 "busybox httpd on 127.0.0.1:$port" \
       bash -c "curl -fsS --max-time 2 http://127.0.0.1:$port/ | grep -qx openaperture-ok"; then
    docker logs "$name" >&2 || true
    docker rm -f "$name" >/dev/null 2>&1 || true
    die "container port 127.0.0.1:$port does not answer from the host (bridge networking broken?)"
  fi
  docker rm -f "$name" >/dev/null
  log "self-test: docker run + published port ok"
}

########################################################################
# 3b. Two more dockerd instances: three Docker hosts for the Deployer,
# the FleetManager and the Overseer (issue 7).  Each has its own socket,
# data root, exec root, pid file and bridge (a bridge made here with
# `ip link add`, so none fights over docker0), iptables off: `-p` on
# 127.0.0.1 goes through docker-proxy, which needs no NAT rule.  Host 3's
# data root is a small tmpfs so a test can fill it to a chosen disk use.
# All three share 127.0.0.1, so two hosts publishing one host port would
# clash: a test artefact, which the per-cluster port allocation (ports
# unique across a cluster) avoids anyway.  Host 2 is also the one the
# tests reach over ssh:// (sshd above runs as root and can open its socket).
########################################################################
EXTRA_DOCKER_HOSTS=(2 3)
SMALL_DISK_HOST=3
SMALL_DISK_SIZE=512m

extra_docker_sock() { echo "/run/oa-docker$1.sock"; }
extra_docker_ok() { timeout 10 docker -H "unix://$(extra_docker_sock "$1")" info >/dev/null 2>&1; }

extra_docker_bridge() { # N: bridge oa-brN with 172.31.N.1/24, made once
  local br=oa-br$1 cidr=172.31.$1.1/24
  ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge
  ip -4 addr show dev "$br" | grep -q "inet $cidr" || ip addr add "$cidr" dev "$br"
  ip link set "$br" up
}

start_extra_dockerd() { # N
  local n=$1 dir=$STATE_DIR/docker$n sock pidfile
  STEP="dockerd $n"
  sock=$(extra_docker_sock "$n")
  pidfile=$RUN_DIR/dockerd$n.pid
  install -d -m 0711 "$dir" "$dir/data"
  if [[ $n == "$SMALL_DISK_HOST" ]] && ! mountpoint -q "$dir/data"; then
    mount -t tmpfs -o "size=$SMALL_DISK_SIZE,mode=0711" "oa-docker$n" "$dir/data" \
      || die "cannot mount a $SMALL_DISK_SIZE tmpfs on $dir/data"
  fi
  # A test run killed mid-way may leave the cluster monitor's filler on the small disk: every later deploy to that
  # host would then run out of space.
  if [[ $n == "$SMALL_DISK_HOST" ]]; then rm -f "$dir/data"/oa-cluster-monitor-fill-*; fi
  extra_docker_ok "$n" && return 0
  extra_docker_bridge "$n"
  update_file "$dir/daemon.json" 0644 "{
  \"ip\": \"127.0.0.1\",
  \"ip-forward\": false,
  \"ip-masq\": false,
  \"iptables\": false,
  \"bridge\": \"oa-br$n\",
  \"insecure-registries\": [\"127.0.0.1:$REG_PORT\", \"127.0.0.1:$REG_AUTH_PORT\"],
  \"log-driver\": \"json-file\",
  \"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"2\"}
}"
  if pid_alive "$pidfile" dockerd; then
    log "dockerd $n (pid $(<"$pidfile")) is running but not answering yet; waiting"
  else
    rm -f "$pidfile" "/run/oa-docker$n.pid"
    log "starting dockerd $n on $sock (log $LOG_DIR/dockerd$n.log)"
    spawn "$pidfile" "$LOG_DIR/dockerd$n.log" \
      dockerd --host "unix://$sock" --config-file "$dir/daemon.json" --data-root "$dir/data" \
        --exec-root "/run/oa-docker$n" --pidfile "/run/oa-docker$n.pid"
  fi
  wait_for 90 "dockerd $n" extra_docker_ok "$n" \
    || { tail_log "$LOG_DIR/dockerd$n.log" 40; die "dockerd $n did not come up (see $LOG_DIR/dockerd$n.log)"; }
}

load_extra_base_image() { # N: the offline base image, copied from the first host
  local d=(docker -H "unix://$(extra_docker_sock "$1")")
  STEP="base image on dockerd $1"
  [[ $("${d[@]}" image inspect -f '{{.Id}}' "$BASE_IMAGE" 2>/dev/null) == $(docker image inspect -f '{{.Id}}' "$BASE_IMAGE") ]] && return 0
  log "loading $BASE_IMAGE into dockerd $1"
  docker save "$BASE_IMAGE" | "${d[@]}" load >&2 || die "cannot load $BASE_IMAGE into dockerd $1"
}

extra_docker_selftest() { # N: a published port answers on 127.0.0.1
  local n=$1 d=(docker -H "unix://$(extra_docker_sock "$1")") port=39090 name=oa-dev-selftest-httpd
  STEP="dockerd $n self-test"
  while ss -Htln "sport = :$port" | grep -q .; do port=$((port + 1)); done
  # A daemon that has just come up can refuse the first run while it still restores its networks (a CI run saw
  # this once, its error unrecorded): three tries, each error kept in the log.
  local try err=$LOG_DIR/selftest-docker$n-run.err
  for try in 1 2 3; do
    "${d[@]}" rm -f "$name" >/dev/null 2>&1 || true
    timeout 60 "${d[@]}" run -d --name "$name" -p "127.0.0.1:$port:8080" "$BASE_IMAGE" \
      sh -c "mkdir -p /www && echo oa-$n >/www/index.html && exec httpd -f -p 8080 -h /www" >/dev/null 2>"$err" \
      && break
    log "dockerd $n self-test: docker run failed (try $try of 3): $(tr '\n' ' ' <"$err")"
    if ((try == 3)); then
      tail_log "$LOG_DIR/dockerd$n.log" 30
      die "could not start a busybox httpd container on dockerd $n"
    fi
    sleep 2
  done
  if ! wait_for 20 "httpd of dockerd $n on 127.0.0.1:$port" \
       bash -c "curl -fsS --max-time 2 http://127.0.0.1:$port/ | grep -qx oa-$n"; then
    "${d[@]}" rm -f "$name" >/dev/null 2>&1 || true
    die "a port published by dockerd $n does not answer on 127.0.0.1:$port"
  fi
  "${d[@]}" rm -f "$name" >/dev/null
  log "self-test: dockerd $n runs containers and publishes ports"
}

start_extra_dockerds() {
  local n started
  for n in "${EXTRA_DOCKER_HOSTS[@]}"; do
    started=0
    extra_docker_ok "$n" || started=1
    start_extra_dockerd "$n"
    load_extra_base_image "$n"
    if ((started)) || [[ $SELFTEST == 1 ]]; then extra_docker_selftest "$n"; fi
  done
}

########################################################################
# 4. docker-registry x2
########################################################################
registry_ok() { # PORT [curl auth args...]
  local port=$1; shift
  [[ $(curl -sS -o /dev/null -w '%{http_code}' --max-time 3 "$@" "http://127.0.0.1:$port/v2/" 2>/dev/null) == 200 ]]
}

write_registry_config() { # FILE PORT DATA_DIR [htpasswd]
  local file=$1 port=$2 data=$3 htp=${4:-} tmp
  tmp=$(mktemp "$file.XXXXXX")
  {
    echo "# generated by deploy/dev-services.sh"
    echo "version: 0.1"
    echo "log:"
    echo "  level: info"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $data"
    echo "  delete:"
    echo "    enabled: true"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: openaperture-dev-$port"
    if [[ -n $htp ]]; then
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: openaperture-dev"
      echo "    path: $htp"
    fi
  } >"$tmp"
  if cmp -s "$tmp" "$file"; then rm -f "$tmp"; else mv -f "$tmp" "$file"; fi
}

start_registries() {
  STEP=docker-registry
  REGISTRY_STARTED=0
  install -d -m 0755 "$REG_DIR" "$REG_DIR/data" "$REG_AUTH_DIR" "$REG_AUTH_DIR/data"
  local htp=$REG_AUTH_DIR/htpasswd
  if [[ ! -s $htp ]] || ! htpasswd -vb "$htp" "$REG_USER" "$REG_PASSWORD" >/dev/null 2>&1; then
    htpasswd -Bbn "$REG_USER" "$REG_PASSWORD" >"$htp.new" && mv -f "$htp.new" "$htp"
  fi
  write_registry_config "$REG_DIR/config.yml" "$REG_PORT" "$REG_DIR/data"
  write_registry_config "$REG_AUTH_DIR/config.yml" "$REG_AUTH_PORT" "$REG_AUTH_DIR/data" "$htp"

  local port dir name pidfile
  for port in "$REG_PORT" "$REG_AUTH_PORT"; do
    local -a auth=()
    if [[ $port == "$REG_AUTH_PORT" ]]; then
      dir=$REG_AUTH_DIR name=registry-auth auth=(-u "$REG_USER:$REG_PASSWORD")
    else
      dir=$REG_DIR name=registry
    fi
    registry_ok "$port" "${auth[@]}" && continue
    pidfile=$RUN_DIR/$name.pid
    if pid_alive "$pidfile" docker-registry; then
      kill "$(<"$pidfile")" 2>/dev/null || true   # ours, but not answering: restart it
      sleep 1
    fi
    log "starting docker-registry on 127.0.0.1:$port (log $LOG_DIR/$name.log)"
    spawn "$pidfile" "$LOG_DIR/$name.log" docker-registry serve "$dir/config.yml"
    wait_for 30 "docker-registry on 127.0.0.1:$port" registry_ok "$port" "${auth[@]}" \
      || { tail_log "$LOG_DIR/$name.log"; die "docker-registry on 127.0.0.1:$port does not answer"; }
    REGISTRY_STARTED=1
  done
  # The authenticated one must really refuse anonymous access.
  [[ $(curl -sS -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$REG_AUTH_PORT/v2/") == 401 ]] \
    || die "registry on 127.0.0.1:$REG_AUTH_PORT does not require authentication"
}

registry_selftest() {
  STEP="registry self-test"
  local cfg reg ok=1
  cfg=$(mktemp -d)   # throwaway docker client config: root's ~/.docker stays untouched
  for reg in "127.0.0.1:$REG_PORT" "127.0.0.1:$REG_AUTH_PORT"; do
    log "self-test: push $BASE_IMAGE to $reg"
    if [[ $reg == "127.0.0.1:$REG_AUTH_PORT" ]]; then
      printf '%s' "$REG_PASSWORD" | DOCKER_CONFIG=$cfg timeout 60 docker login -u "$REG_USER" --password-stdin "$reg" >&2 \
        || { ok=0; log "docker login $reg failed"; break; }
    fi
    docker tag "$BASE_IMAGE" "$reg/openaperture/busybox:selftest"
    DOCKER_CONFIG=$cfg timeout 120 docker push "$reg/openaperture/busybox:selftest" >&2 \
      || { ok=0; log "docker push to $reg failed"; }
    docker rmi "$reg/openaperture/busybox:selftest" >/dev/null 2>&1 || true
    ((ok)) || break
  done
  rm -rf "$cfg"
  ((ok)) || die "pushing $BASE_IMAGE to the local registries failed"
  log "self-test: push to both registries ok"
}

########################################################################
# 5. sshd on 127.0.0.1:2222
########################################################################
ssh_cmd() {
  ssh -i "$SSH_KEY" -p "$SSH_PORT" -F /dev/null \
      -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=5 \
      -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSH_DIR/known_hosts" \
      -o LogLevel=ERROR root@127.0.0.1 "$@"
}

start_sshd() {
  STEP=sshd
  SSHD_STARTED=0
  install -d -m 0700 "$SSH_DIR"
  [[ -s $SSH_DIR/ssh_host_ed25519_key ]] ||
    ssh-keygen -q -t ed25519 -N '' -C openaperture-dev-host -f "$SSH_DIR/ssh_host_ed25519_key" </dev/null >&2
  [[ -s $SSH_KEY ]] ||
    ssh-keygen -q -t ed25519 -N '' -C openaperture-dev-client -f "$SSH_KEY" </dev/null >&2
  update_file "$SSH_DIR/authorized_keys" 0600 "$(<"$SSH_KEY.pub")"
  update_file "$SSH_DIR/known_hosts" 0644 \
    "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")"
  update_file "$SSH_DIR/sshd_config" 0600 "# generated by deploy/dev-services.sh
Port $SSH_PORT
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $SSH_DIR/ssh_host_ed25519_key
PidFile $RUN_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
AllowUsers root
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
X11Forwarding no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server"

  ssh_cmd true </dev/null >/dev/null 2>&1 && return 0
  install -d -m 0755 /run/sshd            # privilege separation directory
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" >&2 || die "invalid $SSH_DIR/sshd_config"
  if pid_alive "$RUN_DIR/sshd.pid" sshd; then
    kill "$(<"$RUN_DIR/sshd.pid")" 2>/dev/null || true; sleep 1
  fi
  log "starting sshd on 127.0.0.1:$SSH_PORT (log $LOG_DIR/sshd.log)"
  /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$LOG_DIR/sshd.log" </dev/null >&2 \
    || { tail_log "$LOG_DIR/sshd.log"; die "sshd failed to start"; }
  wait_for 15 "ssh root@127.0.0.1:$SSH_PORT" ssh_cmd true \
    || { tail_log "$LOG_DIR/sshd.log"; die "cannot log in over ssh to root@127.0.0.1:$SSH_PORT with $SSH_KEY"; }
  SSHD_STARTED=1
}

# update_file PATH MODE CONTENT: write only if different (keeps reruns no-ops).
update_file() {
  local path=$1 mode=$2 content=$3
  if [[ ! -f $path ]] || [[ "$(<"$path")" != "$content" ]]; then
    printf '%s\n' "$content" >"$path.new"; chmod "$mode" "$path.new"; mv -f "$path.new" "$path"
  fi
}

ssh_selftest() {
  STEP="ssh self-test"
  log "self-test: ssh root@127.0.0.1:$SSH_PORT docker version"
  ssh_cmd docker version </dev/null >/dev/null || die "'docker version' over ssh failed"
  # What dockerode's ssh:// support does: `docker system dial-stdio` on the far
  # side.  The docker CLI runs plain `ssh`, so give it our key through a
  # throwaway ssh wrapper on PATH (root's ~/.ssh is left alone).
  local wrap
  wrap=$(mktemp -d)
  printf '#!/bin/sh\nexec /usr/bin/ssh -F /dev/null -i %q -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%q -o LogLevel=ERROR "$@"\n' \
    "$SSH_KEY" "$SSH_DIR/known_hosts" >"$wrap/ssh"
  chmod 755 "$wrap/ssh"
  if ! PATH="$wrap:$PATH" timeout 60 docker -H "ssh://root@127.0.0.1:$SSH_PORT" info >/dev/null; then
    rm -rf "$wrap"; die "docker -H ssh://root@127.0.0.1:$SSH_PORT info failed"
  fi
  rm -rf "$wrap"
  log "self-test: docker version over ssh and docker -H ssh://root@127.0.0.1:$SSH_PORT info ok"
}

########################################################################
# 6. haproxy: no daemon here.  The router's suites start their own
# master-worker instances on 127.0.0.1 and random ports; this checks the
# executable is there and new enough (the Runtime API's `add server`).
########################################################################
HAPROXY_MIN=2.6

check_haproxy() {
  STEP=haproxy
  HAPROXY_BIN=$(command -v haproxy) || die "haproxy is not installed (Debian package haproxy)"
  local version
  version=$("$HAPROXY_BIN" -v | sed -n 's/^HAProxy version \([0-9]*\.[0-9]*\).*/\1/p')
  [[ -n $version ]] || die "$HAPROXY_BIN -v printed no version"
  [[ $(printf '%s\n%s\n' "$HAPROXY_MIN" "$version" | sort -V | head -n1) == "$HAPROXY_MIN" ]] \
    || die "$HAPROXY_BIN is $version; the router needs $HAPROXY_MIN or later"
}

########################################################################
main() {
  install -d -m 0755 "$STATE_DIR" "$LOG_DIR" "$RUN_DIR"
  install_packages
  start_postgres
  start_rabbit1
  start_rabbit2
  start_dockerd
  build_base_image
  if ((DOCKER_STARTED || IMAGE_BUILT)) || [[ $SELFTEST == 1 ]]; then docker_selftest; fi
  start_extra_dockerds
  start_registries
  if ((DOCKER_STARTED || IMAGE_BUILT || REGISTRY_STARTED)) || [[ $SELFTEST == 1 ]]; then registry_selftest; fi
  start_sshd
  if ((SSHD_STARTED)) || [[ $SELFTEST == 1 ]]; then ssh_selftest; fi
  check_haproxy
  STEP=done
  log "all services up"
}

# Everything main prints goes to stderr; stdout is only the environment.
main "$@" >&2

emit() { printf 'export %s=%q\n' "$1" "$2"; }
emit DATABASE_URL "postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"
emit AMQP_URL "amqp://guest:guest@127.0.0.1:$RABBIT1_PORT"
emit AMQP_URL_2 "amqp://guest:guest@127.0.0.1:$RABBIT2_PORT"
emit OA_TEST_RABBIT2_NODE "$RABBIT2_NODE"
emit DOCKER_HOST "$DOCKER_HOST"
emit OA_TEST_REGISTRY "127.0.0.1:$REG_PORT"
emit OA_TEST_REGISTRY_AUTH "127.0.0.1:$REG_AUTH_PORT"
emit OA_TEST_REGISTRY_USER "$REG_USER"
emit OA_TEST_REGISTRY_PASSWORD "$REG_PASSWORD"
emit OA_TEST_BASE_IMAGE "$BASE_IMAGE"
emit OA_TEST_SSH_HOST 127.0.0.1
emit OA_TEST_SSH_PORT "$SSH_PORT"
emit OA_TEST_SSH_USER root
emit OA_TEST_SSH_KEY "$SSH_KEY"
emit OA_TEST_DOCKER_HOSTS "$DOCKER_HOST$(printf ',unix://%s' "$(extra_docker_sock 2)" "$(extra_docker_sock 3)")"
emit OA_TEST_DOCKER_SSH_SOCKET "$(extra_docker_sock 2)"
emit OA_TEST_DOCKER_SMALL_DISK_HOST "unix://$(extra_docker_sock "$SMALL_DISK_HOST")"
emit OA_TEST_DOCKER_SMALL_DISK_DIR "$STATE_DIR/docker$SMALL_DISK_HOST/data"
emit OA_TEST_HAPROXY "$HAPROXY_BIN"
