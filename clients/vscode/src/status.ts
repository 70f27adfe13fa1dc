// The status bar item: what the index and the model worker are doing, fed by the server's
// $/progress (observed through the client's handleWorkDoneProgress middleware).
import * as vscode from "vscode";
import type { ProgressToken, WorkDoneProgressBegin, WorkDoneProgressEnd, WorkDoneProgressReport } from "vscode-languageclient";

interface Job {
  title: string;
  message?: string;
  percentage?: number;
}

type Progress = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

/** A job's title in the user's words: indexing N%, model loading, generating N%, ... */
export function describeJob(job: Job): { icon: string; text: string } {
  const title = job.title.toLowerCase();
  const pct = job.percentage !== undefined ? ` ${job.percentage}%` : "";
  if (title.includes("load")) {
    return { icon: "$(loading~spin)", text: "model loading" + pct };
  }
  if (title.includes("generat")) {
    return { icon: "$(sparkle)", text: "generating" + pct };
  }
  if (title.includes("embed")) {
    return { icon: "$(sync~spin)", text: "embedding" + pct };
  }
  if (title.includes("index")) {
    return { icon: "$(sync~spin)", text: "indexing" + pct };
  }
  return { icon: "$(sync~spin)", text: job.title.replace(/^Ponder:\s*/, "") + pct };
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly jobs = new Map<ProgressToken, Job>();
  private idleText = "idle";

  constructor(command: string) {
    this.item = vscode.window.createStatusBarItem("ponder.status", vscode.StatusBarAlignment.Left, 10);
    this.item.name = "Ponder";
    this.item.command = command;
    this.starting();
    this.item.show();
  }

  starting(): void {
    this.jobs.clear();
    this.set("$(loading~spin)", "starting", "Ponder: starting the language server");
  }

  stopped(reason: string): void {
    this.jobs.clear();
    this.set("$(error)", reason, `Ponder: ${reason}. Click for details.`);
    this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
  }

  /** The idle text, e.g. "39 notes", from the server's ponder.status answer. */
  idle(text: string): void {
    this.idleText = text;
    this.render();
  }

  progress(token: ProgressToken, value: Progress): void {
    if (value.kind === "end") {
      this.jobs.delete(token);
    } else {
      const job = this.jobs.get(token) ?? { title: "working" };
      if (value.kind === "begin") {
        job.title = value.title;
      }
      job.message = value.message ?? job.message;
      job.percentage = value.percentage ?? job.percentage;
      this.jobs.set(token, job);
    }
    this.render();
  }

  /** True while the server reports no work in progress. */
  get isIdle(): boolean {
    return this.jobs.size === 0;
  }

  private render(): void {
    this.item.backgroundColor = undefined;
    const jobs = [...this.jobs.values()];
    if (jobs.length === 0) {
      this.set("$(book)", this.idleText, `Ponder: ${this.idleText}. Click for the index status.`);
      return;
    }
    const shown = describeJob(jobs[jobs.length - 1]);
    const details = jobs.map((j) => `${j.title}${j.percentage !== undefined ? ` ${j.percentage}%` : ""}${j.message ? `: ${j.message}` : ""}`);
    this.set(shown.icon, shown.text, details.join("\n"));
  }

  private set(icon: string, text: string, tooltip: string): void {
    this.item.text = `${icon} Ponder: ${text}`;
    this.item.tooltip = tooltip;
  }

  dispose(): void {
    this.item.dispose();
  }
}
