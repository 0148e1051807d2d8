// One connection attempt to a Unix socket (QEMU's agent and QMP sockets): resolves with the socket,
// rejects with the error (ENOENT, ECONNREFUSED) for the caller to retry or give up.
import net from "node:net";

export function connectUnix(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(p);
    s.once("connect", () => resolve(s));
    s.once("error", (err) => {
      s.destroy();
      reject(err);
    });
  });
}
