//! The worker pool: one promise per command, settled from the pool's threads.

use ha_napi::{Args, Completer, Env, Error, Exports, Result, Value};
use ha_native_core::pool::{
    CommandOutcome, CommandSpec, SubmitError, WorkerPool, DEFAULT_ABORT_GRACE,
    DEFAULT_CAPTURE_LIMIT, DEFAULT_KILL_GRACE,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn register(exports: &Exports) -> Result<()> {
    exports.function("poolCreate", create)?;
    exports.function("poolRun", run)?;
    exports.function("poolActiveCount", active_count)?;
    exports.function("poolQueuedCount", queued_count)?;
    exports.function("poolAbort", abort)?;
    exports.function("poolAbortAll", abort_all)?;
    exports.function("poolClose", close)
}

fn pool(env: Env, args: &Args) -> Result<Arc<WorkerPool>> {
    env.get_external::<WorkerPool>(args.get(0), "pool")
}

fn create<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let max = env.to_u64(args.get(0), "maxWorkers")?;
    let pool =
        WorkerPool::new(max as usize).map_err(|e| Error::with_code("ERR_OUT_OF_RANGE", e))?;
    env.external(Arc::new(pool))
}

fn optional<'e, T>(
    env: Env<'e>,
    object: Value<'e>,
    name: &str,
    read: impl FnOnce(Value<'e>, &str) -> Result<T>,
) -> Result<Option<T>> {
    let v = env.get(object, name)?;
    if env.is_nullish(v)? {
        return Ok(None);
    }
    read(v, &format!("command.{name}")).map(Some)
}

fn millis(env: Env, v: Value, what: &str) -> Result<Duration> {
    Ok(Duration::from_millis(env.to_u64(v, what)?))
}

fn read_spec<'e>(env: Env<'e>, v: Value<'e>) -> Result<CommandSpec> {
    if env.is_nullish(v)? {
        return Err(Error::type_error(
            "command must be an object with uid and command",
        ));
    }
    let vars = match optional(env, v, "env", |o, what| {
        env.keys(o, what).map(|keys| (o, keys))
    })? {
        Some((object, keys)) => keys
            .into_iter()
            .map(|k| {
                let value = env.to_string(env.get(object, &k)?, &format!("command.env.{k}"))?;
                Ok((k, value))
            })
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    Ok(CommandSpec {
        uid: env.to_string(env.get(v, "uid")?, "command.uid")?,
        program: env.to_string(env.get(v, "command")?, "command.command")?,
        args: optional(env, v, "args", |a, what| env.to_string_array(a, what))?.unwrap_or_default(),
        env: vars,
        cwd: optional(env, v, "cwd", |c, what| env.to_string(c, what))?.map(Into::into),
        timeout: optional(env, v, "timeoutMs", |t, what| millis(env, t, what))?
            .filter(|t| !t.is_zero()),
        kill_grace: optional(env, v, "killGraceMs", |t, what| millis(env, t, what))?
            .unwrap_or(DEFAULT_KILL_GRACE),
        capture_limit: optional(env, v, "captureLimit", |n, what| env.to_u64(n, what))?
            .map_or(DEFAULT_CAPTURE_LIMIT, |n| n as usize),
    })
}

fn outcome_value(env: Env, o: CommandOutcome) -> Result<Value> {
    let result = env.object()?;
    env.set(result, "uid", env.string(&o.uid)?)?;
    env.set(
        result,
        "exitCode",
        env.nullable(o.exit_code, |c| env.number(c as f64))?,
    )?;
    env.set(
        result,
        "signal",
        env.nullable(o.signal, |s| env.number(s as f64))?,
    )?;
    env.set(result, "timedOut", env.boolean(o.timed_out)?)?;
    env.set(result, "aborted", env.boolean(o.aborted)?)?;
    env.set(
        result,
        "durationMs",
        env.number(o.duration.as_secs_f64() * 1e3)?,
    )?;
    env.set(
        result,
        "stdout",
        env.string(&String::from_utf8_lossy(&o.stdout))?,
    )?;
    env.set(
        result,
        "stderr",
        env.string(&String::from_utf8_lossy(&o.stderr))?,
    )?;
    env.set(
        result,
        "spawnError",
        env.nullable(o.spawn_error.as_deref(), |e| env.string(e))?,
    )?;
    Ok(result)
}

/// Returns a promise for the command's outcome. Refusals (closed pool,
/// duplicate uid) reject it rather than throw, so callers handle one path.
fn run<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let pool = pool(env, args)?;
    let spec = read_spec(env, args.get(1))?;
    let (promise, completer) = env.promise(outcome_value)?;
    // The completer is shared with the job so that a refused submit can
    // still reject with the reason.
    let slot: Arc<Mutex<Option<Completer<CommandOutcome>>>> = Arc::new(Mutex::new(Some(completer)));
    let job_slot = slot.clone();
    let take = |s: &Mutex<Option<Completer<CommandOutcome>>>| {
        s.lock().unwrap_or_else(|p| p.into_inner()).take()
    };
    let submitted = pool.submit(
        spec,
        Box::new(move |result| {
            if let Some(completer) = take(&job_slot) {
                match result {
                    Ok(outcome) => completer.resolve(outcome),
                    Err(cancelled) => completer.reject(Error::with_code(
                        "ERR_POOL_CANCELLED",
                        cancelled.to_string(),
                    )),
                }
            }
        }),
    );
    if let Err(e) = submitted {
        let code = match e {
            SubmitError::Closed => "ERR_POOL_CLOSED",
            SubmitError::DuplicateUid(_) => "ERR_POOL_DUPLICATE_UID",
            SubmitError::Invalid(_) => "ERR_INVALID_ARG_VALUE",
        };
        if let Some(completer) = take(&slot) {
            completer.reject(Error::with_code(code, e.to_string()));
        }
    }
    Ok(promise)
}

fn active_count<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    env.number(pool(env, args)?.active_count() as f64)
}

fn queued_count<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    env.number(pool(env, args)?.queued_count() as f64)
}

/// The grace before SIGKILL of an abort: `graceMs` when given, else the default.
fn abort_grace<'e>(env: Env<'e>, v: Value<'e>) -> Result<Duration> {
    if env.is_nullish(v)? {
        return Ok(DEFAULT_ABORT_GRACE);
    }
    millis(env, v, "graceMs")
}

fn abort<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let pool = pool(env, args)?;
    let uid = env.to_string(args.get(1), "uid")?;
    let grace = abort_grace(env, args.get(2))?;
    env.boolean(pool.abort(&uid, grace))
}

fn abort_all<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    let pool = pool(env, args)?;
    let grace = abort_grace(env, args.get(1))?;
    env.number(pool.abort_all(grace) as f64)
}

fn close<'e>(env: Env<'e>, args: &Args<'e>) -> Result<Value<'e>> {
    pool(env, args)?.close();
    Ok(env.undefined())
}
