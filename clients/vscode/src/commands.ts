// Editor commands that call the server's workspace/executeCommand commands by name. A server
// that does not (yet) offer one, or fails, is reported in a message, never thrown.
import * as vscode from "vscode";
import { ExecuteCommandRequest, LanguageClient } from "vscode-languageclient/node";

/** Languages offered by "Ponder: Generate Implementation"; the server may accept more. */
export const LANGUAGES = ["python", "typescript", "javascript", "go", "rust", "java", "kotlin", "c", "cpp", "csharp", "lua", "bash"];

/** The argument every Ponder command receives: where the user is. Same shape as in Neovim. */
export interface Here {
  uri: string;
  position: { line: number; character: number };
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  language?: string;
  diagnostic?: unknown;
}

export function here(client: LanguageClient, editor: vscode.TextEditor, extra: Partial<Here> = {}): Here {
  const c2p = client.code2ProtocolConverter;
  const out: Here = { uri: c2p.asUri(editor.document.uri), position: c2p.asPosition(editor.selection.active), ...extra };
  if (!editor.selection.isEmpty) {
    out.range = c2p.asRange(editor.selection);
  }
  return out;
}

export function supports(client: LanguageClient, command: string): boolean {
  return client.initializeResult?.capabilities.executeCommandProvider?.commands.includes(command) ?? false;
}

/** Run server command `command`; undefined (after telling the user) when it cannot. */
export async function execute(client: LanguageClient | undefined, command: string, args: unknown[] = []): Promise<unknown> {
  if (client === undefined || !client.isRunning()) {
    void vscode.window.showWarningMessage("Ponder: the language server is not running (see the Ponder output).");
    return undefined;
  }
  if (!supports(client, command)) {
    void vscode.window.showWarningMessage(`Ponder: the server does not support \`${command}\` yet (update ponder).`);
    return undefined;
  }
  try {
    return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    void vscode.window.showErrorMessage(`Ponder: ${command} failed: ${message}`);
    return undefined;
  }
}

/** Show a server answer: markdown text beside the editor, an error the server has not shown
 * itself (`shown`) as a warning, anything else as a message. */
export async function show(result: unknown, fallback: string): Promise<void> {
  const answer = (result ?? undefined) as { markdown?: unknown; error?: unknown; shown?: unknown } | undefined;
  const markdown = typeof result === "string" ? result : answer?.markdown;
  if (typeof answer === "object" && typeof answer.error === "string") {
    if (answer.shown !== true) {
      void vscode.window.showWarningMessage(`Ponder: ${answer.error}`);
    }
  } else if (typeof markdown === "string" && markdown !== "") {
    const doc = await vscode.workspace.openTextDocument({ language: "markdown", content: markdown });
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  } else if (result !== undefined && result !== null) {
    void vscode.window.showInformationMessage(`Ponder: ${JSON.stringify(result)}`);
  } else {
    void vscode.window.showInformationMessage(`Ponder: ${fallback}`);
  }
}

export interface IndexStatus {
  vault?: string | null;
  notes?: number;
  indexed?: boolean;
  embedding?: unknown;
  chunks?: number;
  embedded?: number;
}

export function describeStatus(s: IndexStatus | undefined): string {
  if (!s || !s.vault) {
    return "no vault open yet";
  }
  const embedding = typeof s.embedding === "string" ? s.embedding : JSON.stringify(s.embedding);
  return `${s.notes ?? "?"} notes in ${s.vault}; indexed: ${s.indexed}; embeddings: ${embedding} (${s.embedded ?? 0}/${s.chunks ?? 0} chunks)`;
}

/** The diagnostic under the cursor that "ignore pair" applies to (a conflict between notes). */
export function pairUnderCursor(client: LanguageClient, editor: vscode.TextEditor): unknown {
  const at = editor.selection.active;
  for (const d of vscode.languages.getDiagnostics(editor.document.uri)) {
    if (d.source === "ponder" && d.range.contains(at) && (d.code === "fact-conflict" || d.code === "contradiction")) {
      return client.code2ProtocolConverter.asDiagnostic(d);
    }
  }
  return undefined;
}
