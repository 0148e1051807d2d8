// Where explore saves the regression cases it found (cases/found/<id>.json + <id>.yaml for their images).
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FOUND_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "found");
