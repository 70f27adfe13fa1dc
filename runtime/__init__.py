"""The model side: worker process, wire protocol, client, backends and offload planner.

Public API (stable; `lsp` uses only this):

    from ponder.runtime.client import ModelClient
    from ponder.runtime.tasks import Task, TaskResult, Priority
    from ponder.runtime.tasks import ModelError, JobCancelled, ModelOutputError, WorkerUnavailable, BackendFailure
    from ponder.runtime.settings import ModelSettings

    client = ModelClient(settings: ModelSettings, cache_path: Path | None = None)
    await client.start()                       # dispatcher; loads the model now if settings.eager_start
    result = await client.run(task, priority=Priority.INTERACTIVE | OPEN_DOCUMENT | BACKGROUND,
                              on_progress=callable | None, cancel_event=asyncio.Event | None)
    job_id = client.submit(task, priority, on_progress); await client.wait(job_id)
    client.cancel(job_id) -> bool              # queued or running; cancelling the awaiting task also cancels
    await client.status() -> dict              # worker status (model, rss, plan, last job tokens/s), queue, events
    await client.close()                       # kills the worker's process group

    Task(name, messages, output=PydanticModel | None, version=1, max_tokens=512, temperature=0.0, stop=[])
    TaskResult: .value (output instance, or text), .text, .cached, .tokens, .prompt_tokens, .seconds,
                .time_to_first_token_s, .attempts

Errors are typed: JobCancelled, ModelOutputError (invalid JSON after one retry; never data),
WorkerUnavailable (load refused, or the worker died max_restarts+1 times in a row), BackendFailure.

CLI entry points (wired by lsp/cli.py): `ponder plan` -> planner.main(argv), `ponder worker` ->
worker.main(argv). The worker also runs as `python -m ponder.runtime.worker`.
"""
