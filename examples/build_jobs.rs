//! A build system's job graph on a `UniformPool`: jobs name the jobs they
//! wait for by `PoolKey`, a scheduler runs every job whose inputs are done,
//! and failed jobs are retried under a new key (their old keys go stale,
//! and every holder of one finds out). Data only some jobs have (the log of
//! a failure, the timing of a job that ran) lives beside the pool in
//! `SecondaryMap`s keyed by the same keys, not in fields of every job nor
//! in hash maps. The retry links are the exception: they are keyed by the
//! stale keys of failed jobs, and a failed job's retry reuses its entry, so
//! a `SecondaryMap` (one value per entry, the newest key's) would let each
//! retry's link replace the one before; a `HashMap` keeps the history. The
//! ticks each job waits for its inputs are counted through the map's
//! `entry` (one lookup to add or insert). At shutdown, the jobs still
//! queued are drained out of the pool by value, with their keys, and the
//! wait counts out of their map.
//!
//! Run with `cargo run --example build_jobs`.

use std::collections::HashMap;

use managed::prelude::*;
use managed::uniform::SecondaryMap;

/// A job: what it builds and the jobs it waits for.
#[derive(Debug)]
struct Job {
    target: String,
    inputs: Vec<PoolKey>,
    /// Fails this many times before it succeeds (a flaky test).
    flaky: u32,
    done: bool,
}

/// What the scheduler knows beside the pool.
struct Build {
    jobs: UniformPool<Job>,
    /// Ticks each finished job took: only for jobs that ran.
    timing: SecondaryMap<u32>,
    /// The failure log of jobs that failed at least once.
    failures: SecondaryMap<Vec<String>>,
    /// Ticks each job spent waiting for its inputs: only for jobs that
    /// waited.
    waited: SecondaryMap<u32>,
    /// Jobs that replaced a failed one: the old (stale) key's successor.
    retried_as: HashMap<PoolKey, PoolKey>,
    tick: u32,
}

impl Build {
    fn new() -> Self {
        let jobs = UniformPool::new();
        Build {
            timing: SecondaryMap::new(&jobs),
            failures: SecondaryMap::new(&jobs),
            waited: SecondaryMap::new(&jobs),
            retried_as: HashMap::new(),
            jobs,
            tick: 0,
        }
    }

    fn add(&mut self, target: &str, inputs: &[PoolKey], flaky: u32) -> PoolKey {
        self.jobs.insert(Job {
            target: target.to_owned(),
            inputs: inputs.to_vec(),
            flaky,
            done: false,
        })
    }

    /// The job a key names now, following retries.
    fn current(&self, mut key: PoolKey) -> PoolKey {
        while let Some(&next) = self.retried_as.get(&key) {
            key = next;
        }
        key
    }

    /// Whether every input of `job` is done (following retries).
    fn ready(&self, job: &Job) -> bool {
        job.inputs
            .iter()
            .all(|&input| self.jobs.get(self.current(input)).is_some_and(|j| j.done))
    }

    /// Runs every ready job once; a failing job is removed and queued again
    /// under a new key, its failure log and wait count moved along. The
    /// jobs not ready wait one more tick.
    fn step(&mut self) -> usize {
        self.tick += 1;
        let (mut ready, mut waiting) = (Vec::new(), Vec::new());
        for (key, job) in self.jobs.iter().filter(|(_, job)| !job.done) {
            if self.ready(job) {
                ready.push(key);
            } else {
                waiting.push(key);
            }
        }
        for key in waiting {
            *self
                .waited
                .entry(key)
                .expect("a job of the pool")
                .or_default() += 1;
        }
        for &key in &ready {
            let job = &mut self.jobs[key];
            if job.flaky > 0 {
                let mut failed = self.jobs.remove(key).expect("a ready job");
                failed.flaky -= 1;
                let line = format!("tick {}: {} failed", self.tick, failed.target);
                let mut log = self.failures.remove(key).unwrap_or_default();
                log.push(line);
                let waited = self.waited.remove(key);
                let retry = self.jobs.insert(failed);
                self.failures.insert(retry, log);
                if let Some(ticks) = waited {
                    self.waited.insert(retry, ticks);
                }
                self.retried_as.insert(key, retry);
            } else {
                job.done = true;
                self.timing.insert(key, self.tick);
            }
        }
        ready.len()
    }
}

pub(crate) fn main() {
    let mut build = Build::new();
    let core = build.add("core", &[], 0);
    let parser = build.add("parser", &[core], 1);
    let codegen = build.add("codegen", &[core], 0);
    let tests = build.add("tests", &[parser, codegen], 2);
    let docs = build.add("docs", &[parser], 0);
    let release = build.add("release", &[tests, docs], 0);
    // Never runs: it waits for a job nobody adds before shutdown.
    let missing = build.add("plugins", &[], 0);
    build.jobs.remove(missing);
    let blocked = build.add("bundle", &[missing], 0);

    let mut ran = Vec::new();
    while build.step() > 0 {
        ran.push(build.tick);
    }
    assert_eq!(build.tick, ran.len() as u32 + 1);

    // Retried jobs: their first keys are stale, the retries done.
    for (first, flaky) in [(parser, 1), (tests, 2)] {
        assert!(build.jobs.get(first).is_none(), "a retried job's old key");
        let now = build.current(first);
        assert!(build.jobs[now].done);
        assert_eq!(build.failures[now].len(), flaky, "the log followed the job");
        assert!(build.timing.contains(now) && !build.timing.contains(first));
    }
    for key in [core, codegen, docs, release] {
        assert!(build.jobs[key].done && build.failures.get(key).is_none());
    }
    assert_eq!(build.timing.len(), 6, "every job that ran, once");
    assert_eq!(build.failures.len(), 2);
    // The release waited for every other job that ran.
    let release_at = build.timing[release];
    assert!(build.timing.values().all(|&t| t <= release_at));

    // Pruning the side tables of keys the pool no longer holds: nothing of
    // the finished jobs' data is lost, the stale retry links go.
    build.timing.retain(|key, _| build.jobs.contains(key));
    build.retried_as.retain(|&key, _| build.jobs.contains(key));
    assert_eq!(build.timing.len(), 6);
    assert!(build.retried_as.is_empty());

    // Shutdown: the jobs still queued come out by value, with their keys;
    // the finished ones are dropped. The pool keeps its pages.
    let capacity = build.jobs.capacity();
    let mut leftover = Vec::new();
    for (key, job) in build.jobs.drain() {
        if !job.done {
            leftover.push((key, job.target));
        }
    }
    assert_eq!(leftover, [(blocked, "bundle".to_owned())]);
    assert!(build.jobs.is_empty() && build.jobs.capacity() == capacity);
    // Every key is stale now; the side tables still answer for theirs
    // until told otherwise, as a map keyed by them would.
    assert!(build.jobs.get(release).is_none());
    assert!(build.timing.get(release).is_some());
    build.timing.retain(|key, _| build.jobs.contains(key));
    assert!(build.timing.is_empty());
    // The wait counts, drained into a report: the release waited longest
    // (for every other job), the bundle for every tick of the build.
    let mut waits: Vec<(PoolKey, u32)> = build.waited.drain().collect();
    assert!(build.waited.is_empty());
    waits.sort_by_key(|&(_, ticks)| core::cmp::Reverse(ticks));
    assert_eq!(waits[0], (blocked, build.tick));
    assert_eq!(waits[1].0, release);
    assert!(waits.iter().all(|&(key, _)| key != core));
    println!(
        "{} ticks, {} jobs left at shutdown: {:?}",
        build.tick,
        leftover.len(),
        leftover
    );
}
