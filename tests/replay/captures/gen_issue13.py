# gen_issue13.py OUTDIR - writes the issue-13 replay captures (README.md says what each pins)
import json, sys
out = sys.argv[1]
S = 1000000000
def writer(name, kernel):
    recs = [{"type":"start","tool":"sva-trace","version":"0.1.0","format":1,"kernel":kernel,"machine":"x86_64","ts_ns":1*S,"pointers":"hashed","probes":[]}]
    st = {"seq":0}
    def add(t, ts, pid, comm, tid=None, **kw):
        d = {"type":t,"seq":st["seq"],"ts_ns":int(ts),"cpu":kw.pop("cpu",0),"pid":pid,"tid":tid or pid,"comm":comm}
        d.update(kw); st["seq"] += 1; recs.append(d)
    def gap(n): st["seq"] += n
    def done(end):
        recs.append({"type":"summary","ts_ns":int(end)})
        with open(f"{out}/{name}.jsonl","w") as f:
            for r in recs: f.write(json.dumps(r,separators=(",",":"))+"\n")
    return add, gap, recs, done

def bond(add, t, ts, pid, comm, mm, h, users, pasid, tid=None, dev="dsa0", group=4, domain="0x00000000000000d1", users_of=None):
    kw = dict(mm=mm, dev=dev, group=group, pasid=pasid, domain=domain, domain_type="sva", domain_type_raw=16, handle=h, users=users, ret=0)
    if t == "unbind" and users is not None: kw["users_before_call"] = True
    if users_of: kw["users_of"] = users_of
    add(t, ts, pid, comm, tid, **kw)

# point 2: threads of one process bind and unbind one handle concurrently (7.2)
add, gap, recs, done = writer("concurrent_threads", "7.2.13+deb14-cloud-amd64")
M = "0x00000000000000a1"; H = "0x00000000000000b1"; H2 = "0x00000000000000b2"
# T101's bind took iommu_sva_lock before T100's unbind did, but its record came later
bond(add, "bind", 1.00*S, 100, "app", M, H, 1, 5, tid=100)
bond(add, "unbind", 1.01*S, 100, "app", M, H, 2, 5, tid=100)
bond(add, "bind", 1.02*S, 100, "app", M, H, 1, 5, tid=101)
bond(add, "unbind", 1.03*S, 100, "app", M, H, 1, 5, tid=101)
# T103's bind ran and read 2 before T102's unbind took the lock, but was recorded after it
bond(add, "bind", 1.10*S, 100, "app", M, H, 1, 5, tid=102)
bond(add, "unbind", 1.11*S, 100, "app", M, H, 2, 5, tid=102)
bond(add, "bind", 1.12*S, 100, "app", M, H, 2, 5, tid=103)
bond(add, "unbind", 1.13*S, 100, "app", M, H, 1, 5, tid=103)
# ... a real imbalance on another handle: one bind, two unbinds
bond(add, "bind", 1.20*S, 100, "app", M, H2, 1, 5, tid=104, dev="dsa1", group=5, domain="0x00000000000000d2")
bond(add, "unbind", 1.21*S, 100, "app", M, H2, 1, 5, tid=104, dev="dsa1", group=5, domain="0x00000000000000d2")
bond(add, "unbind", 1.22*S, 100, "app", M, H2, 0, 5, tid=105, dev="dsa1", group=5, domain="0x00000000000000d2")
done(2*S)

# point 4: a freed handle's address reused by a new bond (7.2)
add, gap, recs, done = writer("address_reuse", "7.2.13+deb14-cloud-amd64")
MA, MB, MC = "0x00000000000000a1", "0x00000000000000a2", "0x00000000000000a3"
H1, H2 = "0x00000000000000b1", "0x00000000000000b2"
bond(add, "bind", 1.0*S, 200, "app_a", MA, H1, 1, 5)
gap(1)  # A's unbind is lost: the seq gap stays open
recs.append({"type":"lost","count":1,"total":1,"ts_ns":int(1.05*S)})
bond(add, "bind", 1.1*S, 300, "app_b", MB, H1, 1, 6, domain="0x00000000000000d2")  # a new object, another mm: no cross-mm
bond(add, "unbind", 1.2*S, 300, "app_b", MB, H1, 1, 6, domain="0x00000000000000d2")
bond(add, "bind", 1.3*S, 400, "app_c", MC, H2, 1, 7, domain="0x00000000000000d3")
bond(add, "bind", 1.31*S, 400, "app_c", MC, H2, 2, 7, domain="0x00000000000000d3")
# the same thread reads 1 on a handle the trace counts 2 on: a new object; the old one's
# unbinds were not seen (no loss since: a warning, certain)
bond(add, "bind", 1.4*S, 400, "app_c", MC, H2, 1, 7, domain="0x00000000000000d3")
bond(add, "unbind", 1.5*S, 400, "app_c", MC, H2, 1, 7, domain="0x00000000000000d3")
done(2*S)

# point 7, 6.2-6.7: a new handle per bind, users counts the shared SVA domain
# (iommu_sva_bind_device / iommu_sva_unbind_device, drivers/iommu/iommu-sva.c, 6.5)
add, gap, recs, done = writer("model_6_2", "6.5.0-1-amd64")
M = "0x00000000000000a1"; D = "0x00000000000000d1"
h1, h2, h3 = "0x00000000000000b1", "0x00000000000000b2", "0x00000000000000b3"
bond(add, "bind", 1.00*S, 100, "app", M, h1, 1, 5, tid=100, users_of="domain")
bond(add, "bind", 1.01*S, 100, "app", M, h2, 2, 5, tid=101, users_of="domain")
bond(add, "unbind", 1.02*S, 100, "app", M, h1, 2, 5, tid=100, users_of="domain")
# kfree(handle) at every unbind: the next bind may get the same address, as a new object
bond(add, "bind", 1.03*S, 100, "app", M, h1, 2, 5, tid=100, users_of="domain")
bond(add, "unbind", 1.04*S, 100, "app", M, h2, 2, 5, tid=101, users_of="domain")
bond(add, "unbind", 1.05*S, 100, "app", M, h1, 1, 5, tid=100, users_of="domain")
# a handle unbound twice: each unbind frees its handle, so the second is a double unbind
bond(add, "bind", 1.10*S, 100, "app", M, h3, 1, 5, tid=102, domain="0x00000000000000d2", users_of="domain")
bond(add, "unbind", 1.11*S, 100, "app", M, h3, 1, 5, tid=102, domain="0x00000000000000d2", users_of="domain")
bond(add, "unbind", 1.12*S, 100, "app", M, h3, 0, 5, tid=102, domain="0x00000000000000d2", users_of="domain")
done(2*S)

# point 7, 6.1: the count is the driver's (intel_svm_dev.users, intel/svm.c intel_svm_bind_mm /
# intel_svm_unbind_mm, 6.1), or unknown where it cannot be read
add, gap, recs, done = writer("model_6_1", "6.1.0-50-cloud-amd64")
M = "0x00000000000000a1"; h, hu = "0x00000000000000b1", "0x00000000000000b2"
add("pasid_alloc", 1.00*S, 100, "app", mm=M, dev="dsa0", group=4, pasid=5, ret=0)
bond(add, "bind", 1.01*S, 100, "app", M, h, 1, 5, users_of="driver")
add("pasid_alloc", 1.02*S, 100, "app", mm=M, dev="dsa0", group=4, pasid=5, ret=0, pasid_existing=True)
bond(add, "bind", 1.03*S, 100, "app", M, h, 2, 5, users_of="driver")
bond(add, "unbind", 1.04*S, 100, "app", M, h, 2, 5, users_of="driver")
bond(add, "unbind", 1.05*S, 100, "app", M, h, 1, 5, users_of="driver")
# a driver whose count cannot be read: a second unbind is not a certain double unbind
bond(add, "bind", 1.10*S, 100, "app", M, hu, None, 5, dev="hisi_zip-0", group=6)
bond(add, "unbind", 1.11*S, 100, "app", M, hu, None, 5, dev="hisi_zip-0", group=6)
bond(add, "unbind", 1.12*S, 100, "app", M, hu, None, 5, dev="hisi_zip-0", group=6)
done(2*S)

# points 5 and 9 (7.2): iommufd's PASIDs, a group reset, the device an unbind names
add, gap, recs, done = writer("iommufd_and_reset", "7.2.13+deb14-cloud-amd64")
M = "0x00000000000000a1"
# a VMM attaches a paging domain at PASID 7 (a number it chose) on group 3
add("attach", 1.00*S, 500, "qemu", mm=None, dev="0000:03:00.0", group=3, pasid=7, domain="0x00000000000000e1", domain_type="unmanaged", domain_type_raw=1, handle="0x00000000000000f1", ret=0)
# an SVA process got PASID 7 from the global allocator, used it on group 4, and exits
bond(add, "bind", 1.10*S, 100, "app", M, "0x00000000000000b1", 1, 7)
bond(add, "unbind", 1.20*S, 100, "app", M, "0x00000000000000b1", 1, 7)
add("process_exit", 1.30*S, 100, "app", exit_code=0, group_dead=True)
add("mm_exit", 1.31*S, 100, "app", mm=M, pasid=7)
add("mm_pasid_drop", 1.32*S, 100, "app", tid=100, mm=M, pasid=7)
add("pasid_free", 1.32*S+1000, 100, "app", tid=100, pasid=7)
# attach -EBUSY while the group is being reset: no occupant, no type mismatch
add("attach", 1.40*S, 500, "qemu", dev="0000:03:00.0", group=3, pasid=8, domain="0x00000000000000e2", domain_type="sva", domain_type_raw=16, handle="0x00000000000000f2", ret=-16, errno="EBUSY", resetting=True)
add("detach", 1.50*S, 500, "qemu", dev="0000:03:00.0", group=3, pasid=7, domain="0x00000000000000e1", domain_type="unmanaged", domain_type_raw=1)
done(2*S)
