"""Drive the PVE simulator with Debian's python3-proxmoxer, a real PVE client
nobody in this project wrote. Run by TestProxmoxerTalksToSim with
/usr/bin/python3; settings come from the environment. Prints OK on success,
exits non-zero with the reason otherwise."""
import os
import sys
import time

from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


prox = ProxmoxAPI(
    os.environ["SIM_HOST"],
    port=int(os.environ["SIM_PORT"]),
    user=os.environ["SIM_USER"],
    token_name=os.environ["SIM_TOKEN_NAME"],
    token_value=os.environ["SIM_TOKEN_VALUE"],
    verify_ssl=os.environ["SIM_CA_FILE"],
)
node = prox.nodes("pve1")
ct = node.lxc(100)

# List cluster resources.
resources = prox.cluster.resources.get(type="vm")
vmids = sorted(r["vmid"] for r in resources if r["type"] == "lxc")
check(100 in vmids and 200 in vmids, "cluster resources: %r" % vmids)

# Read a config.
cfg = ct.config.get()
check(cfg["memory"] == 1024 and cfg["hostname"] == "web", "config: %r" % cfg)
check(len(cfg["digest"]) == 40, "digest: %r" % cfg.get("digest"))

# Set memory (hot-applied on a running container; PUT config returns null).
check(ct.config.put(memory=2048, digest=cfg["digest"]) is None, "PUT config should return null")
check(ct.config.get(current=1)["memory"] == 2048, "memory not applied")

# Create a snapshot and wait for its task.
upid = ct.snapshot.post(snapname="fromproxmoxer", description="taken by proxmoxer")
check(upid.startswith("UPID:pve1:") and ":vzsnapshot:100:admin@pve!full:" in upid, "UPID: %r" % upid)
for _ in range(200):
    status = node.tasks(upid).status.get()
    if status["status"] == "stopped":
        break
    check("exitstatus" not in status, "exitstatus while running: %r" % status)
    time.sleep(0.05)
check(status["status"] == "stopped" and status["exitstatus"] == "OK", "task: %r" % status)
log = node.tasks(upid).log.get()
check(log[-1]["t"] == "TASK OK", "log: %r" % log)
names = [s["name"] for s in ct.snapshot.get()]
check("fromproxmoxer" in names and "current" in names, "snapshots: %r" % names)

# An invalid parameter gets PVE's 400 with the per-parameter errors.
try:
    ct.config.put(memory="lots")
    check(False, "invalid memory accepted")
except ResourceException as e:
    check(e.status_code == 400, "status %r" % e.status_code)
    check(e.content.startswith("Parameter verification failed."), "reason %r" % e.content)
# proxmoxer 1.2.0 reads only "data" from an error body (so e.errors is
# None); read the body through its own session to see PVE's errors map.
session = prox._store["session"]
resp = session.request("PUT", prox._store["base_url"] + "/nodes/pve1/lxc/100/config", data={"memory": "lots"})
body = resp.json()
check(resp.status_code == 400 and resp.reason == "Parameter verification failed.", "raw: %r %r" % (resp.status_code, resp.reason))
check(body == {"data": None, "errors": {"memory": "type check ('integer') failed - got 'lots'"},
               "message": "Parameter verification failed.\n"}, "body %r" % body)

# A failure PVE reports as a plain die: 500 with the message as reason.
try:
    node.lxc(999).config.get()
    check(False, "missing CT answered")
except ResourceException as e:
    check(e.status_code == 500, "status %r" % e.status_code)
    check("does not exist" in e.content, "reason %r" % e.content)

# The cluster, node, storage and access endpoints Ansible and scripts use.
check(prox.cluster.nextid.get() == 104, "nextid %r" % prox.cluster.nextid.get())
st = prox.cluster.status.get()
check(st[0]["type"] == "cluster" and [n["name"] for n in st[1:]] == ["pve1", "pve2"], "cluster status: %r" % st)
check(node.status.get()["cpuinfo"]["cpus"] == 8, "node status")
t = node.time.get()
check(t["timezone"] == "Etc/UTC" and t["localtime"] == t["time"], "time: %r" % t)
nodes = prox.nodes.get()
check(all(len(n["ssl_fingerprint"]) == 95 for n in nodes), "ssl_fingerprint: %r" % nodes)
ifaces = ct.interfaces.get()
check([i["name"] for i in ifaces] == ["lo", "eth0"], "interfaces: %r" % ifaces)
check(node.lxc(101).interfaces.get() is None, "a stopped CT's interfaces are null")
check([s["storage"] for s in prox.storage.get()] == ["local", "local-lvm", "nas", "tank"], "storage")
check(prox.storage("nas").get()["type"] == "nfs", "storage nas")
check(prox.pools.get() == [] and prox.access.groups.get() == [], "pools, groups")
check("admin@pve" in [u["userid"] for u in prox.access.users.get()], "users")
check(sorted(d["realm"] for d in prox.access.domains.get()) == ["pam", "pve"], "domains")
upid = node.lxc(103).delete(purge=1)
check(":vzdestroy:103:" in upid, "destroy UPID %r" % upid)
for _ in range(200):
    if node.tasks(upid).status.get()["status"] == "stopped":
        break
    time.sleep(0.05)
check(node.tasks(upid).status.get()["exitstatus"] == "OK", "destroy task")
try:
    node.lxc(100).delete()
    check(False, "a running CT was destroyed")
except ResourceException as e:
    check(e.status_code == 500 and "container is running" in e.content, "destroy running: %r" % e.content)

print("OK")
