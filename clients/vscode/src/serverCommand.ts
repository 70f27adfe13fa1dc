// How the extension finds Ponder's language server: the configured command, else the
// configured Python interpreter, else `ponder` on PATH. Kept free of the `vscode` module so
// tests can run it with plain Node (`node out/serverCommand.js '<settings JSON>'`) and start
// the exact command line through pytest-lsp.
import * as fs from "fs";
import * as path from "path";

export const INSTALL_COMMAND = "python3 -m pip install ponder";

export interface ServerSettings {
  /** `ponder.server.command`: the full command line, e.g. ["/venv/bin/ponder", "serve"]. */
  command?: string[];
  /** `ponder.server.pythonPath`: an interpreter that has Ponder installed. */
  pythonPath?: string | null;
  /** Substituted for `${workspaceFolder}` in the settings above. */
  workspaceFolder?: string;
}

export interface ServerCommand {
  command: string;
  args: string[];
  /** Which rule found it, for the output channel. */
  source: "ponder.server.command" | "ponder.server.pythonPath" | "PATH";
}

export interface ServerNotFound {
  error: string;
  install: string;
}

export type Resolved = ServerCommand | ServerNotFound;

export function isNotFound(r: Resolved): r is ServerNotFound {
  return (r as ServerNotFound).error !== undefined;
}

function expand(value: string, settings: ServerSettings, env: NodeJS.ProcessEnv): string {
  let out = value.replace(/\$\{workspaceFolder\}/g, settings.workspaceFolder ?? "");
  out = out.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? "");
  if (out === "~" || out.startsWith("~/")) {
    out = path.join(env.HOME ?? env.USERPROFILE ?? "~", out.slice(1));
  }
  return out;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first `name` on PATH (with PATHEXT on Windows), like `which`. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env, platform: string = process.platform): string | undefined {
  const sep = platform === "win32" ? ";" : ":";
  const exts = platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH ?? env.Path ?? "").split(sep)) {
    if (!dir) {
      continue;
    }
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

export function resolveServerCommand(
  settings: ServerSettings,
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
): Resolved {
  const command = (settings.command ?? []).map((part) => expand(part, settings, env)).filter((part) => part !== "");
  if (command.length > 0) {
    return { command: command[0], args: command.slice(1), source: "ponder.server.command" };
  }
  const python = expand(settings.pythonPath ?? "", settings, env);
  if (python !== "") {
    return { command: python, args: ["-m", "ponder.lsp", "serve"], source: "ponder.server.pythonPath" };
  }
  const ponder = which("ponder", env, platform);
  if (ponder !== undefined) {
    return { command: ponder, args: ["serve"], source: "PATH" };
  }
  return {
    error:
      "Ponder's language server was not found: `ponder` is not on PATH and neither " +
      "`ponder.server.command` nor `ponder.server.pythonPath` is set. Install it with " +
      `\`${INSTALL_COMMAND}\` (or \`pipx install ponder\`), or point ponder.server.pythonPath at an ` +
      "interpreter that has it.",
    install: INSTALL_COMMAND,
  };
}

if (require.main === module) {
  const settings = JSON.parse(process.argv[2] ?? "{}") as ServerSettings;
  process.stdout.write(JSON.stringify(resolveServerCommand(settings)) + "\n");
}
