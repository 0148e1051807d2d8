const { resolveKernel } = await import("./harness/kernel/resolve.ts");
const { bootGuest } = await import("./harness/vm/launch.ts");
const k = await resolveKernel();
for (let i = 0; i < 3; i++) {
  const t = Date.now();
  try {
    const vm = await bootGuest(k, { artifactsDir: `/tmp/art${i}` });
    console.log("boot", vm.timing);
    await vm.shutdown();
    console.log("down", Date.now() - t);
  } catch (e) { console.log("ERR", (e as Error).message, (e as any).details?.()); }
}
