// Ponder for VS Code: starts `ponder serve` with vscode-languageclient for markdown and
// pseudocode, forwards the `ponder.*` settings, and adds commands, a status bar item and an
// output channel with the server's log.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, State } from "vscode-languageclient/node";
import { LANGUAGES, describeStatus, execute, here, IndexStatus, pairUnderCursor, show } from "./commands";
import { isNotFound, resolveServerCommand } from "./serverCommand";
import { StatusBar } from "./status";

/** Settings the extension itself uses; everything else under `ponder.` belongs to the server. */
const CLIENT_ONLY = ["server", "trace"];

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let status: StatusBar;

function serverSettings(): Record<string, unknown> {
  const all = JSON.parse(JSON.stringify(vscode.workspace.getConfiguration("ponder"))) as Record<string, unknown>;
  for (const key of CLIENT_ONLY) {
    delete all[key];
  }
  return all;
}

async function refreshIdle(): Promise<void> {
  if (client?.isRunning() && status.isIdle) {
    try {
      const s = (await client.sendRequest("workspace/executeCommand", { command: "ponder.status", arguments: [] })) as IndexStatus;
      status.idle(s?.vault ? `${s.notes} notes` : "idle");
    } catch {
      status.idle("idle");
    }
  }
}

function createClient(): LanguageClient | undefined {
  const config = vscode.workspace.getConfiguration("ponder");
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const resolved = resolveServerCommand({
    command: config.get<string[]>("server.command", []),
    pythonPath: config.get<string>("server.pythonPath", ""),
    workspaceFolder: folder,
  });
  if (isNotFound(resolved)) {
    output.appendLine(resolved.error);
    status.stopped("server not found");
    void vscode.window.showErrorMessage(resolved.error, "Copy Install Command", "Open Settings").then((choice) => {
      if (choice === "Copy Install Command") {
        void vscode.env.clipboard.writeText(resolved.install);
      } else if (choice === "Open Settings") {
        void vscode.commands.executeCommand("workbench.action.openSettings", "ponder.server");
      }
    });
    return undefined;
  }
  output.appendLine(`Starting ${[resolved.command, ...resolved.args].join(" ")} (from ${resolved.source})`);
  // No `transport`: with TransportKind.stdio the client would append `--stdio` to the command
  // line, which `ponder serve` rejects. Without it the process is started exactly as resolved
  // (the command line tests/editors/test_vscode.py runs) and spoken to over stdio.
  const serverOptions: ServerOptions = {
    command: resolved.command,
    args: resolved.args,
    options: { cwd: folder },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "markdown" },
      { scheme: "file", language: "pseudo" },
    ],
    initializationOptions: serverSettings(),
    synchronize: { configurationSection: "ponder" },
    outputChannel: output,
    middleware: {
      workspace: {
        // The server asks for the `ponder` section; it gets the server's settings only.
        configuration: (params, token, next) => {
          if (params.items.every((item) => item.section === "ponder")) {
            return params.items.map(() => serverSettings());
          }
          return next(params, token);
        },
      },
      handleWorkDoneProgress: (token, params, next) => {
        status.progress(token, params);
        if (params.kind === "end") {
          void refreshIdle();
        }
        next(token, params);
      },
    },
  };
  const created = new LanguageClient("ponder", "Ponder", serverOptions, clientOptions);
  created.onDidChangeState((e) => {
    if (e.newState === State.Running) {
      void refreshIdle();
    } else if (e.newState === State.Stopped) {
      status.stopped("stopped");
    } else {
      status.starting();
    }
  });
  return created;
}

async function start(): Promise<void> {
  status.starting();
  client = createClient();
  if (client === undefined) {
    return;
  }
  try {
    await client.start();
  } catch (e) {
    output.appendLine(`The server failed to start: ${e instanceof Error ? e.message : String(e)}`);
    status.stopped("failed to start");
  }
}

async function restart(): Promise<void> {
  if (client !== undefined) {
    const old = client;
    client = undefined;
    try {
      await old.stop();
    } catch (e) {
      output.appendLine(`Stopping the server: ${e instanceof Error ? e.message : String(e)}`);
    }
    await old.dispose();
  }
  await start();
}

function withEditor(fn: (c: LanguageClient, editor: vscode.TextEditor) => Promise<void>): () => Promise<void> {
  return async () => {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined || client === undefined) {
      void vscode.window.showWarningMessage("Ponder: open a note or a .pseudo file first.");
      return;
    }
    await fn(client, editor);
  };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Ponder");
  status = new StatusBar("ponder.showStatus");
  context.subscriptions.push(output, status);
  const register = (id: string, fn: () => Promise<void>) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  register("ponder.reindexVault", async () => {
    const r = (await execute(client, "ponder.reindex")) as { started?: boolean } | undefined;
    if (r !== undefined) {
      void vscode.window.showInformationMessage(r.started === false ? "Ponder: the vault is not open yet." : "Ponder: reindexing the vault.");
    }
  });
  register("ponder.showStatus", async () => {
    const r = (await execute(client, "ponder.status")) as IndexStatus | undefined;
    if (r !== undefined) {
      const choice = await vscode.window.showInformationMessage(`Ponder: ${describeStatus(r)}`, "Show Output");
      if (choice === "Show Output") {
        output.show(true);
      }
    }
  });
  register(
    "ponder.generateImplementation",
    withEditor(async (c, editor) => {
      const language = await vscode.window.showQuickPick(LANGUAGES, { placeHolder: "Generate the implementation in…" });
      if (language !== undefined) {
        await show(await execute(c, "ponder.generate", [here(c, editor, { language })]), "generation started.");
      }
    }),
  );
  register(
    "ponder.explainHere",
    withEditor(async (c, editor) => {
      await show(await execute(c, "ponder.explain", [here(c, editor)]), "explanation requested.");
    }),
  );
  register(
    "ponder.ignorePairHere",
    withEditor(async (c, editor) => {
      const diagnostic = pairUnderCursor(c, editor);
      if (diagnostic === undefined) {
        void vscode.window.showWarningMessage("Ponder: no fact conflict or contradiction under the cursor.");
        return;
      }
      await show(await execute(c, "ponder.ignorePair", [here(c, editor, { diagnostic })]), "pair ignored.");
    }),
  );
  register("ponder.restartServer", restart);
  register("ponder.showOutput", async () => output.show(true));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("ponder.server")) {
        void restart();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  if (client !== undefined) {
    await client.stop();
  }
}
