//! [`Faulty`]: any [`Store`] with a failure switch, so tests (and the
//! fault-injection build of the Worker) can make chosen calls fail.
//!
//! A [`Rule`] names an operation and when it fails: the Nth call, every Nth
//! call, every call on one key, a fraction of calls (a seeded, repeatable
//! draw), or always. A failed call returns [`crate::Error::Store`] and, by
//! default, never reaches the inner store; [`Rule::after`] makes it reach the
//! store first and fail on the way back, as when a reply is lost after the
//! write happened; [`Rule::late`] makes a write (put, multipart completion,
//! delete) fail at once and take effect later, when [`Faulty::land`] is
//! called, as a write whose outcome the caller was never told can still be
//! applied after its error came back; [`Rule::crash`] makes every later call
//! fail too, as when the process dies there (nothing it does after reaches
//! the store). Calls are counted per operation whether they fail or not.

use std::sync::{Arc, Mutex};

use super::{failed, Listing, Meta, Part, PutMode, Range, Start, Store};
use crate::error::Result;

/// A store operation, as counted and matched by the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// [`Store::list`].
    List,
    /// [`Store::get`].
    Get,
    /// [`Store::head`].
    Head,
    /// [`Store::put`].
    Put,
    /// [`Store::create_multipart`].
    CreateMultipart,
    /// [`Store::upload_part`].
    UploadPart,
    /// [`Store::complete_multipart`].
    CompleteMultipart,
    /// [`Store::abort_multipart`].
    AbortMultipart,
    /// [`Store::delete`].
    Delete,
}

impl Op {
    const COUNT: usize = 9;

    /// The operation's name in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Get => "get",
            Op::Head => "head",
            Op::Put => "put",
            Op::CreateMultipart => "create_multipart",
            Op::UploadPart => "upload_part",
            Op::CompleteMultipart => "complete_multipart",
            Op::AbortMultipart => "abort_multipart",
            Op::Delete => "delete",
        }
    }
}

/// Which calls of an operation fail.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// Only the Nth call (from 1), counted from when the switch was made.
    Nth(u64),
    /// Every Nth call: the Nth, 2Nth, …
    Every(u64),
    /// Every call on this key (for a delete: when it is among the keys).
    Key(String),
    /// This fraction of calls, drawn from a generator seeded by the rule.
    Fraction {
        /// From 0 (none) to 1 (every call).
        fraction: f64,
        /// Seeds the draw: the same seed fails the same calls.
        seed: u64,
    },
    /// Every call.
    Always,
}

/// One failure to inject.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The operation that fails.
    pub op: Op,
    /// Which of its calls fail.
    pub when: When,
    /// True: the call reaches the store, then fails (the write happened,
    /// the caller is not told). False (default): it fails before.
    pub after: bool,
    /// True: once it fails, so does every later call of any operation,
    /// until [`Switch::heal`] (the caller died there).
    pub crash: bool,
    /// True, for a write (put, multipart completion, delete): the call
    /// fails at once and takes effect when [`Faulty::land`] is called. For
    /// other operations it is ignored (they fail before).
    pub late: bool,
}

impl Rule {
    /// `op` fails `when`, before reaching the store.
    pub fn new(op: Op, when: When) -> Rule {
        Rule {
            op,
            when,
            after: false,
            crash: false,
            late: false,
        }
    }

    /// The same rule, failing after the call took effect.
    pub fn after(mut self) -> Rule {
        self.after = true;
        self
    }

    /// The same rule, the write taking effect at [`Faulty::land`].
    pub fn late(mut self) -> Rule {
        self.late = true;
        self
    }

    /// The same rule, and every call after the one it fails fails too.
    pub fn crash(mut self) -> Rule {
        self.crash = true;
        self
    }
}

/// The rules and call counts: one switch can be shared by many [`Faulty`]
/// stores (the Worker makes a store per request, and its faults count
/// across requests).
#[derive(Debug, Default)]
pub struct Switch {
    state: Mutex<SwitchState>,
}

#[derive(Debug, Default)]
struct SwitchState {
    rules: Vec<(Rule, u64)>,
    calls: [u64; Op::COUNT],
    failures: u64,
    /// A crash rule failed a call: every call fails.
    down: bool,
}

/// SplitMix64: a small, well-mixed generator; enough for a repeatable draw.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Switch {
    fn state(&self) -> std::sync::MutexGuard<'_, SwitchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule. `Nth` counts from now.
    pub fn fail(&self, rule: Rule) {
        let mut s = self.state();
        let base = s.calls[rule.op as usize];
        let seed = match rule.when {
            When::Fraction { seed, .. } => seed,
            _ => base,
        };
        s.rules.push((rule, seed));
    }

    /// Removes every rule: calls go through again.
    pub fn heal(&self) {
        let mut s = self.state();
        s.rules.clear();
        s.down = false;
    }

    /// Calls made of `op` so far, failed or not.
    pub fn calls(&self, op: Op) -> u64 {
        self.state().calls[op as usize]
    }

    /// Calls failed by a rule so far.
    pub fn failures(&self) -> u64 {
        self.state().failures
    }

    /// Counts a call and decides whether (and how) it fails.
    fn decide(&self, op: Op, keys: &[&str]) -> Verdict {
        let mut s = self.state();
        s.calls[op as usize] += 1;
        let n = s.calls[op as usize];
        if s.down {
            s.failures += 1;
            return Verdict::Before;
        }
        let (mut verdict, mut crash) = (Verdict::Pass, false);
        for (rule, state) in s.rules.iter_mut().filter(|(r, _)| r.op == op) {
            let hit = match &rule.when {
                // `state` holds the call count when the rule was made.
                When::Nth(k) => n.checked_sub(*state) == Some(*k),
                When::Every(k) => *k > 0 && n.is_multiple_of(*k),
                When::Key(key) => keys.contains(&key.as_str()),
                When::Fraction { fraction, .. } => {
                    (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64 <= *fraction
                }
                When::Always => true,
            };
            if hit {
                let this = match (rule.after, rule.late) {
                    (true, _) => Verdict::After,
                    (false, true) => Verdict::Late,
                    (false, false) => Verdict::Before,
                };
                verdict = verdict.max(this);
                crash |= rule.crash;
            }
        }
        if verdict != Verdict::Pass {
            s.failures += 1;
        }
        s.down = crash;
        verdict
    }
}

/// What the switch decided for one call, the strongest rule winning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    /// It goes through.
    Pass,
    /// It fails before reaching the store.
    Before,
    /// It fails now and takes effect at [`Faulty::land`] (writes only).
    Late,
    /// It takes effect, then fails.
    After,
}

/// A write that failed and is still to take effect ([`Rule::late`]).
#[derive(Debug)]
enum Deferred {
    Put(String, Vec<u8>, PutMode),
    Complete(String, String, Vec<Part>),
    Delete(Vec<String>),
}

/// A store whose calls fail by the [`Rule`]s of its [`Switch`].
#[derive(Debug)]
pub struct Faulty<S> {
    inner: S,
    switch: Arc<Switch>,
    /// Writes failed by a [`Rule::late`], in order, until [`Faulty::land`].
    deferred: Mutex<Vec<Deferred>>,
}

impl<S> Faulty<S> {
    /// `inner` with a switch of its own and no rules: every call goes through.
    pub fn new(inner: S) -> Self {
        Faulty::with_switch(inner, Arc::default())
    }

    /// `inner` failing by a shared `switch`.
    pub fn with_switch(inner: S, switch: Arc<Switch>) -> Self {
        Faulty {
            inner,
            switch,
            deferred: Mutex::default(),
        }
    }

    /// The wrapped store (to inspect it, or to use it without faults).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The switch (see [`Switch::fail`], [`Switch::heal`], [`Switch::calls`]).
    pub fn switch(&self) -> &Switch {
        &self.switch
    }

    /// Adds a rule: see [`Switch::fail`].
    pub fn fail(&self, rule: Rule) {
        self.switch.fail(rule)
    }

    /// Removes every rule: see [`Switch::heal`].
    pub fn heal(&self) {
        self.switch.heal()
    }

    /// Calls made of `op` so far: see [`Switch::calls`].
    pub fn calls(&self, op: Op) -> u64 {
        self.switch.calls(op)
    }

    /// Calls failed so far: see [`Switch::failures`].
    pub fn failures(&self) -> u64 {
        self.switch.failures()
    }

    fn decide(&self, op: Op, keys: &[&str]) -> Verdict {
        self.switch.decide(op, keys)
    }

    fn defer(&self, write: Deferred) {
        self.deferred
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(write);
    }
}

impl<S: Store> Faulty<S> {
    /// Applies the writes that [`Rule::late`] failed, in the order they
    /// were made, whatever they return (a conditional put is decided now).
    pub async fn land(&self) {
        let writes = std::mem::take(&mut *self.deferred.lock().unwrap_or_else(|e| e.into_inner()));
        for w in writes {
            let _ = match w {
                Deferred::Put(key, data, mode) => self.inner.put(&key, data, mode).await.map(drop),
                Deferred::Complete(key, id, parts) => self
                    .inner
                    .complete_multipart(&key, &id, parts)
                    .await
                    .map(drop),
                Deferred::Delete(keys) => self.inner.delete(&keys).await,
            };
        }
    }
}

/// The rules a deployment asks for through its vars (the Worker's
/// `fault-injection` test build): `FAULT_PUT_EVERY` = N fails every Nth put,
/// `FAULT_PUT_FRACTION` = f fails that fraction of puts (drawn with
/// `FAULT_SEED`, default 1). Unset vars add no rule; a bad value is an error
/// naming the var.
pub fn rules_from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    if var("FAULT_PUT_EVERY").is_some() {
        let n = crate::vars::count(&var, "FAULT_PUT_EVERY", 0, 1)?;
        rules.push(Rule::new(Op::Put, When::Every(n)));
    }
    if let Some(v) = var("FAULT_PUT_FRACTION") {
        let f = v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| (0.0..=1.0).contains(f));
        let fraction = f.ok_or_else(|| format!("FAULT_PUT_FRACTION={v:?} is not in 0..=1"))?;
        let seed = crate::vars::count(&var, "FAULT_SEED", 1, 0)?;
        rules.push(Rule::new(Op::Put, When::Fraction { fraction, seed }));
    }
    Ok(rules)
}

fn injected(op: Op, key: &str) -> crate::Error {
    failed(op.name(), key, "injected failure")
}

/// Runs `call` through the switch; a write names what to keep for
/// [`Faulty::land`] when a [`Rule::late`] fails it (`defer`). Each arm
/// evaluates only its own expression, so both may move the call's arguments.
macro_rules! through {
    ($self:ident, $op:expr, $key:expr, $keys:expr, $call:expr) => {
        through!($self, $op, $key, $keys, $call, None)
    };
    ($self:ident, $op:expr, $key:expr, $keys:expr, $call:expr, $defer:expr) => {{
        match $self.decide($op, $keys) {
            Verdict::Pass => $call.await,
            Verdict::Before => Err(injected($op, $key)),
            Verdict::Late => {
                let write: Option<Deferred> = $defer;
                if let Some(w) = write {
                    $self.defer(w);
                }
                Err(injected($op, $key))
            }
            Verdict::After => {
                let _ = $call.await;
                Err(injected($op, $key))
            }
        }
    }};
}

impl<S: Store> Store for Faulty<S> {
    async fn list(&self, prefix: &str, start: Start<'_>) -> Result<Listing> {
        through!(
            self,
            Op::List,
            prefix,
            &[prefix],
            self.inner.list(prefix, start)
        )
    }

    async fn get(&self, key: &str, range: Option<Range>) -> Result<Option<Vec<u8>>> {
        through!(self, Op::Get, key, &[key], self.inner.get(key, range))
    }

    async fn head(&self, key: &str) -> Result<Option<Meta>> {
        through!(self, Op::Head, key, &[key], self.inner.head(key))
    }

    async fn put(&self, key: &str, data: Vec<u8>, mode: PutMode) -> Result<Option<Meta>> {
        through!(
            self,
            Op::Put,
            key,
            &[key],
            self.inner.put(key, data, mode),
            Some(Deferred::Put(key.into(), data, mode))
        )
    }

    async fn create_multipart(&self, key: &str) -> Result<String> {
        through!(
            self,
            Op::CreateMultipart,
            key,
            &[key],
            self.inner.create_multipart(key)
        )
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: Vec<u8>,
    ) -> Result<Part> {
        let call = self.inner.upload_part(key, upload_id, number, data);
        through!(self, Op::UploadPart, key, &[key], call)
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<Part>,
    ) -> Result<Meta> {
        through!(
            self,
            Op::CompleteMultipart,
            key,
            &[key],
            self.inner.complete_multipart(key, upload_id, parts),
            Some(Deferred::Complete(key.into(), upload_id.into(), parts))
        )
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<()> {
        let call = self.inner.abort_multipart(key, upload_id);
        through!(self, Op::AbortMultipart, key, &[key], call)
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let first = refs.first().copied().unwrap_or("");
        through!(
            self,
            Op::Delete,
            first,
            &refs,
            self.inner.delete(keys),
            Some(Deferred::Delete(keys.to_vec()))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::memory::Memory;
    use super::*;
    use futures_executor::block_on;

    fn put(s: &Faulty<Memory>, key: &str) -> bool {
        block_on(s.put(key, b"x".to_vec(), PutMode::Overwrite)).is_ok()
    }

    #[test]
    fn nth_every_and_key_rules_fail_exactly_their_calls() {
        let s = Faulty::new(Memory::new());
        s.fail(Rule::new(Op::Put, When::Nth(2)));
        assert_eq!(
            (put(&s, "a"), put(&s, "b"), put(&s, "c")),
            (true, false, true)
        );
        assert_eq!(s.inner().keys(), ["a", "c"]);
        s.heal();
        s.fail(Rule::new(Op::Put, When::Every(2)));
        // Calls 4, 5, 6 (counting from the first put): 4 and 6 fail.
        assert_eq!(
            (put(&s, "d"), put(&s, "e"), put(&s, "f")),
            (false, true, false)
        );
        s.heal();
        s.fail(Rule::new(Op::Put, When::Key("k".into())));
        assert_eq!(
            (put(&s, "k"), put(&s, "j"), put(&s, "k")),
            (false, true, false)
        );
        assert_eq!(s.calls(Op::Put), 9);
        assert_eq!(s.failures(), 5);
    }

    #[test]
    fn a_shared_switch_counts_across_stores() {
        let switch = Arc::new(Switch::default());
        switch.fail(Rule::new(Op::Put, When::Every(2)));
        let a = Faulty::with_switch(Memory::new(), Arc::clone(&switch));
        let b = Faulty::with_switch(Memory::new(), Arc::clone(&switch));
        assert_eq!(
            (put(&a, "x"), put(&b, "x"), put(&a, "y")),
            (true, false, true)
        );
        assert_eq!((switch.calls(Op::Put), switch.failures()), (3, 1));
    }

    #[test]
    fn vars_make_rules() {
        let vars = |k: &str| match k {
            "FAULT_PUT_EVERY" => Some("7".to_string()),
            "FAULT_PUT_FRACTION" => Some("0.25".to_string()),
            _ => None,
        };
        let rules = rules_from_vars(vars).unwrap();
        assert_eq!(rules[0], Rule::new(Op::Put, When::Every(7)));
        let draw = When::Fraction {
            fraction: 0.25,
            seed: 1,
        };
        assert_eq!(rules[1], Rule::new(Op::Put, draw));
        assert!(rules_from_vars(|_| None).unwrap().is_empty());
        let bad = rules_from_vars(|k| (k == "FAULT_PUT_FRACTION").then(|| "2".to_string()));
        assert!(bad.unwrap_err().contains("FAULT_PUT_FRACTION"));
    }

    #[test]
    fn after_rules_write_then_fail() {
        let s = Faulty::new(Memory::new());
        s.fail(Rule::new(Op::Put, When::Always).after());
        assert!(!put(&s, "a"));
        assert_eq!(s.inner().keys(), ["a"]);
    }

    /// A crash rule fails its call, then every call of any operation,
    /// until healed; the calls before it go through.
    #[test]
    fn a_crash_fails_every_later_call_until_healed() {
        let s = Faulty::new(Memory::new());
        s.fail(Rule::new(Op::Put, When::Nth(2)).after().crash());
        assert!(put(&s, "a"));
        assert!(!put(&s, "b"));
        assert!(!put(&s, "c"));
        assert!(block_on(s.get("a", None)).is_err());
        assert_eq!(s.inner().keys(), ["a", "b"]);
        assert_eq!(s.failures(), 3);
        s.heal();
        assert!(put(&s, "c"));
        assert!(block_on(s.get("a", None)).unwrap().is_some());
    }

    #[test]
    fn fractions_are_repeatable_and_about_right() {
        let run = || {
            let s = Faulty::new(Memory::new());
            s.fail(Rule::new(
                Op::Put,
                When::Fraction {
                    fraction: 0.25,
                    seed: 7,
                },
            ));
            (0..2000)
                .map(|i| put(&s, &i.to_string()))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let failed = a.iter().filter(|ok| !**ok).count();
        assert!((400..600).contains(&failed), "{failed} of 2000 failed");
    }

    #[test]
    fn deletes_match_any_of_their_keys_and_other_ops_are_untouched() {
        let s = Faulty::new(Memory::new());
        assert!(put(&s, "a"));
        s.fail(Rule::new(Op::Delete, When::Key("a".into())));
        let keys = vec!["z".to_string(), "a".to_string()];
        assert!(block_on(s.delete(&keys)).is_err());
        assert!(block_on(s.get("a", None)).unwrap().is_some());
        assert!(block_on(s.delete(&["z".to_string()])).is_ok());
    }

    /// A late write fails at once and takes effect at `land`, its condition
    /// decided then: a put made conditional on an etag that changed in
    /// between is not applied.
    #[test]
    fn late_writes_take_effect_when_they_land() {
        let s = Faulty::new(Memory::new());
        let first = block_on(s.put("k", b"1".to_vec(), PutMode::Overwrite))
            .unwrap()
            .unwrap();
        s.fail(Rule::new(Op::Put, When::Always).late());
        s.fail(Rule::new(Op::Delete, When::Always).late());
        assert!(!put(&s, "a"));
        let stale = PutMode::IfMatch(first.etag.clone());
        assert!(block_on(s.put("k", b"late".to_vec(), stale)).is_err());
        assert!(block_on(s.delete(&["a".to_string()])).is_err());
        s.heal();
        assert_eq!(s.inner().keys(), ["k"], "nothing yet");
        // In between, "k" changes: the late conditional put will not match.
        block_on(s.put("k", b"2".to_vec(), PutMode::Overwrite)).unwrap();
        block_on(s.land());
        // "a" was put, then deleted, in the order they were made.
        assert_eq!(s.inner().keys(), ["k"]);
        assert_eq!(block_on(s.get("k", None)).unwrap().unwrap(), b"2");
        block_on(s.land());
    }
}
