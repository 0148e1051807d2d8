// The QEMU command line is a pure function of the VM spec and host capabilities: pinned here.
import { describe, expect, it } from "vitest";
import { chrootsItself, qemuArgs, escapeOpt, shellQuote } from "../../harness/vm/qemu-args.ts";

const spec = {
  kernel: "/k/vmlinuz",
  initrd: "/k/initrd.cpio",
  cmdline: ["console=ttyS0", "panic=-1"],
  memoryMiB: 1024,
  cpus: 2,
  drives: [{ name: "share-a", path: "/img/a,b.erofs", readOnly: true }],
  agentSocket: "/tmp/x/agent.sock",
  console: "pipe" as const,
};

describe("qemuArgs", () => {
  it("builds the TCG command line", () => {
    expect(qemuArgs(spec, { qemu: "qemu-system-x86_64", accel: "tcg" })).toEqual([
      "qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none", "-nic", "none", "-no-reboot",
      "-machine", "q35", "-accel", "tcg,thread=single", "-cpu", "qemu64", "-smp", "2", "-m", "1024M",
      "-kernel", "/k/vmlinuz", "-initrd", "/k/initrd.cpio", "-append", "console=ttyS0 panic=-1",
      "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
      "-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0",
      "-device", "virtio-serial-pci,id=vser0",
      "-chardev", "socket,id=agent0,path=/tmp/x/agent.sock,server=on,wait=off",
      "-device", "virtserialport,bus=vser0.0,chardev=agent0,name=pcshare.agent",
      "-drive", "file=/img/a,,b.erofs,if=none,id=drive0,format=raw,readonly=on",
      "-device", "virtio-blk-pci,drive=drive0,serial=share-a",
    ]);
  });

  it("starts the firmware it is given (qboot) before the machine options, and none when not given", () => {
    const argv = qemuArgs(spec, { qemu: "q", accel: "tcg", firmware: "/usr/share/qemu/qboot.rom" });
    expect(argv.slice(argv.indexOf("-no-reboot") + 1, argv.indexOf("-machine"))).toEqual(["-bios", "/usr/share/qemu/qboot.rom"]);
    expect(qemuArgs(spec, { qemu: "q", accel: "tcg" })).not.toContain("-bios");
  });

  it("uses the host CPU under KVM and the terminal in interactive mode", () => {
    const argv = qemuArgs({ ...spec, console: "terminal", agentSocket: undefined }, { qemu: "q", accel: "kvm" });
    expect(argv.slice(argv.indexOf("-accel"), argv.indexOf("-accel") + 4)).toEqual(["-accel", "kvm", "-cpu", "host"]);
    expect(argv).toContain("mon:stdio");
    expect(argv.join(" ")).not.toContain("virtserialport");
  });

  it("switches to the unprivileged user and chroots into the run dir only when told to, allowing set*id only then", () => {
    const argv = qemuArgs({ ...spec, runDir: "/tmp/run" }, { qemu: "q", accel: "tcg", runAs: "nobody" });
    const at = argv.indexOf("-sandbox");
    expect(argv.slice(at, at + 6)).toEqual([
      "-sandbox", "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny", "-runas", "nobody", "-chroot", "/tmp/run",
    ]);
    expect(qemuArgs({ ...spec, runDir: "/tmp/run" }, { qemu: "q", accel: "tcg" })).not.toContain("-runas");
  });

  it("spells the user switch and chroot -run-with user=,chroot= for a QEMU that takes it (10.0 rejects -runas and -chroot)", () => {
    const argv = qemuArgs({ ...spec, runDir: "/tmp/run" }, { qemu: "q", accel: "tcg", runAs: "nobody", runWith: true });
    const at = argv.indexOf("-run-with");
    expect(argv.slice(at, at + 2)).toEqual(["-run-with", "user=nobody,chroot=/tmp/run"]);
    expect(argv).not.toContain("-runas");
    expect(argv).not.toContain("-chroot");
    expect(qemuArgs(spec, { qemu: "q", accel: "tcg", runAs: "nobody", runWith: true })).toContain("user=nobody");
    expect(qemuArgs({ ...spec, runDir: "/tmp/run" }, { qemu: "q", accel: "tcg", runWith: true })).not.toContain("-run-with");
  });

  it("knows from argv whether QEMU chroots itself, in either spelling", () => {
    const old = qemuArgs({ ...spec, runDir: "/tmp/run" }, { qemu: "q", accel: "tcg", runAs: "nobody" });
    const now = qemuArgs({ ...spec, runDir: "/tmp/run" }, { qemu: "q", accel: "tcg", runAs: "nobody", runWith: true });
    expect(chrootsItself(old)).toBe(true);
    expect(chrootsItself(now)).toBe(true);
    expect(chrootsItself(qemuArgs(spec, { qemu: "q", accel: "tcg", runAs: "nobody", runWith: true }))).toBe(false);
    expect(chrootsItself(qemuArgs(spec, { qemu: "q", accel: "tcg" }))).toBe(false);
    expect(chrootsItself(["-run-with", "async-teardown=on"])).toBe(false);
  });

  it("attaches the drives as LUNs of one virtio-scsi controller on that bus, and asks the agent to wait for them", () => {
    const drives = [{ name: "share-a", path: "/c/a,b.erofs", readOnly: true }, { name: "share-b", path: "/c/b.erofs", readOnly: true }];
    const scsi = qemuArgs({ ...spec, drives }, { qemu: "q", accel: "tcg", driveBus: "virtio-scsi" });
    expect(scsi.filter((a) => a.startsWith("virtio-scsi-pci"))).toEqual(["virtio-scsi-pci,id=pcshare-scsi"]);
    expect(scsi).toContain("file=/c/a,,b.erofs,if=none,id=drive0,format=raw,readonly=on");
    expect(scsi).toContain("scsi-hd,drive=drive1,bus=pcshare-scsi.0,channel=0,scsi-id=1,lun=0,serial=share-b");
    expect(scsi.join(" ")).not.toContain("virtio-blk-pci");
    expect(scsi[scsi.indexOf("-append") + 1]).toMatch(/ pcshare\.drives=2$/);
    const blk = qemuArgs({ ...spec, drives }, { qemu: "q", accel: "tcg" });
    expect(blk.filter((a) => a.startsWith("virtio-blk-pci"))).toHaveLength(2);
    expect(blk[blk.indexOf("-append") + 1]).not.toContain("pcshare.drives");
  });

  it("puts every drive on one controller, target i % 256 and LUN i / 256, its name as the serial", () => {
    expect(qemuArgs({ ...spec, drives: [] }, { qemu: "q", accel: "tcg", driveBus: "virtio-scsi" }).join(" ")).not.toContain("virtio-scsi-pci"); // no drives, no controller
    const drives = Array.from({ length: 300 }, (_, i) => ({ name: `d${i}`, path: `/img/${i}`, readOnly: i !== 1 }));
    const args = qemuArgs({ ...spec, drives }, { qemu: "q", accel: "tcg", driveBus: "virtio-scsi" });
    expect(args.filter((a) => a.startsWith("virtio-scsi-pci"))).toEqual(["virtio-scsi-pci,id=pcshare-scsi"]);
    expect(args).toContain("file=/img/0,if=none,id=drive0,format=raw,readonly=on");
    expect(args).toContain("file=/img/1,if=none,id=drive1,format=raw");
    expect(args).toContain("scsi-hd,drive=drive255,bus=pcshare-scsi.0,channel=0,scsi-id=255,lun=0,serial=d255");
    expect(args).toContain("scsi-hd,drive=drive256,bus=pcshare-scsi.0,channel=0,scsi-id=0,lun=1,serial=d256");
    expect(args.filter((a) => a.startsWith("scsi-hd,"))).toHaveLength(300);
  });

  it("rejects drive names the guest could not resolve", () => {
    expect(() => qemuArgs({ ...spec, drives: [{ name: "a name with spaces", path: "/x", readOnly: true }] }, { qemu: "q", accel: "tcg" })).toThrow(
      /drive name "a name with spaces"/,
    );
  });

  it("escapes commas and quotes for the shell", () => {
    expect(escapeOpt("a,b")).toBe("a,,b");
    expect(shellQuote(["qemu", "-append", "a b", "it's"])).toBe(`qemu -append 'a b' 'it'\\''s'`);
  });
});

describe("many drives", () => {
  it("puts drives past the 24th behind PCI bridges with hex slot numbers QEMU accepts", () => {
    const drives = Array.from({ length: 60 }, (_, i) => ({ name: `d${i}`, path: `/img/${i}`, readOnly: true }));
    const argv = qemuArgs({ ...spec, drives }, { qemu: "q", accel: "tcg" });
    expect(argv.filter((a) => a.startsWith("pci-bridge"))).toEqual(["pci-bridge,id=pcb1,chassis_nr=1", "pci-bridge,id=pcb2,chassis_nr=2"]);
    expect(argv).toContain("virtio-blk-pci,drive=drive24,serial=d24,bus=pcb1,addr=0x1");
    expect(argv).toContain("virtio-blk-pci,drive=drive54,serial=d54,bus=pcb1,addr=0x1f");
    expect(argv).toContain("virtio-blk-pci,drive=drive55,serial=d55,bus=pcb2,addr=0x1");
  });
});
