//! The checkpoint file of a bulk preload: which input indices the server accepted, and how far
//! requests may have been sent.
//!
//! ```json
//! {"version": 1, "input": "9c0f…", "accepted": [[0, 1200], [1300, 5000]], "claimed": 5400}
//! ```
//!
//! `accepted` are half-open index ranges; `claimed` is written *before* any identifier at or
//! past it is sent, so after a crash (even SIGKILL) every index below it that is not accepted
//! has an unknown outcome: it is sent again and counted in `duplicates_possible`. `input` is a
//! fingerprint of the first identifiers, so a checkpoint is not applied to another input.
//! Every write goes to `<file>.tmp`, is fsynced, and renamed over the file: a reader sees the
//! old content or the new, never half of it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::models::VehicleIdentifier;

const VERSION: u32 = 1;
/// Identifiers fingerprinted.
pub(crate) const FINGERPRINT_ITEMS: usize = 16;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    input: String,
    accepted: Vec<[u64; 2]>,
    claimed: u64,
}

pub(crate) struct Checkpoint {
    path: PathBuf,
    fingerprint: Option<String>,
    /// start -> end (half-open), disjoint and not touching.
    accepted: BTreeMap<u64, u64>,
    /// Indices below this may have been sent (by this run or an earlier one).
    claimed: u64,
    /// `claimed` as the earlier run left it: indices below it not accepted had an unknown outcome.
    pub(crate) previous_claimed: u64,
    dirty: bool,
}

/// FNV-1a over the identifiers' wire JSON.
pub(crate) fn fingerprint<'a>(ids: impl Iterator<Item = &'a VehicleIdentifier>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for b in id.to_json().to_string().bytes().chain(std::iter::once(b'\n')) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn io_error(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::validation(format!("checkpoint {}: {what}: {e}", path.display()))
}

impl Checkpoint {
    /// Reads the file if it exists (a missing file is a new checkpoint).
    pub(crate) fn open(path: &Path) -> Result<Checkpoint, Error> {
        let mut cp = Checkpoint {
            path: path.to_path_buf(),
            fingerprint: None,
            accepted: BTreeMap::new(),
            claimed: 0,
            previous_claimed: 0,
            dirty: false,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cp),
            Err(e) => return Err(io_error(path, "cannot be read", e)),
        };
        let file: File = serde_json::from_str(&text)
            .map_err(|e| io_error(path, "is not a prepare_all checkpoint (delete it to start over)", e))?;
        if file.version != VERSION {
            return Err(io_error(path, "has an unknown version", file.version));
        }
        cp.fingerprint = Some(file.input);
        for [a, b] in file.accepted {
            if a < b {
                cp.insert_range(a, b);
            }
        }
        cp.claimed = file.claimed;
        cp.previous_claimed = file.claimed;
        Ok(cp)
    }

    /// Checks (or, for a new checkpoint, records) the input's fingerprint.
    pub(crate) fn check_input(&mut self, fp: String) -> Result<(), Error> {
        match &self.fingerprint {
            Some(old) if *old != fp => Err(Error::validation(format!(
                "checkpoint {} was written for another input (its first identifiers differ); give the same input, or delete the file to start over",
                self.path.display()
            ))),
            Some(_) => Ok(()),
            None => {
                self.fingerprint = Some(fp);
                self.dirty = true;
                Ok(())
            }
        }
    }

    pub(crate) fn is_accepted(&self, index: u64) -> bool {
        self.accepted.range(..=index).next_back().is_some_and(|(_, end)| index < *end)
    }

    pub(crate) fn claimed(&self) -> u64 {
        self.claimed
    }

    pub(crate) fn set_claimed(&mut self, claimed: u64) {
        if claimed > self.claimed {
            self.claimed = claimed;
            self.dirty = true;
        }
    }

    /// Records accepted indices (ascending).
    pub(crate) fn accept(&mut self, indices: &[usize]) {
        let mut i = 0;
        while i < indices.len() {
            let start = indices[i] as u64;
            let mut end = start + 1;
            i += 1;
            while i < indices.len() && indices[i] as u64 == end {
                end += 1;
                i += 1;
            }
            self.insert_range(start, end);
        }
        self.dirty = true;
    }

    fn insert_range(&mut self, mut start: u64, mut end: u64) {
        if let Some((&s, &e)) = self.accepted.range(..=start).next_back() {
            if e >= start {
                start = s;
                end = end.max(e);
                self.accepted.remove(&s);
            }
        }
        while let Some((&s, &e)) = self.accepted.range(start..=end).next() {
            end = end.max(e);
            self.accepted.remove(&s);
        }
        self.accepted.insert(start, end);
    }

    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Writes the file atomically (temporary file, fsync, rename).
    pub(crate) fn save(&mut self) -> Result<(), Error> {
        let file = File {
            version: VERSION,
            input: self.fingerprint.clone().unwrap_or_default(),
            accepted: self.accepted.iter().map(|(a, b)| [*a, *b]).collect(),
            claimed: self.claimed,
        };
        let text = serde_json::to_vec(&file).map_err(|e| io_error(&self.path, "cannot be encoded", e))?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // Make the rename itself durable (best effort: not every platform opens directories).
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
            }
            Ok(())
        };
        write().map_err(|e| io_error(&self.path, "cannot be written", e))?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_survive_a_reload() {
        let dir = std::env::temp_dir().join(format!("partly-cp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cp.json");
        let _ = std::fs::remove_file(&path);
        let mut cp = Checkpoint::open(&path).unwrap();
        cp.check_input("abc".into()).unwrap();
        cp.accept(&[0, 1, 2, 5, 6]);
        cp.accept(&[3, 4]);
        cp.accept(&[10]);
        cp.set_claimed(20);
        cp.save().unwrap();
        let mut again = Checkpoint::open(&path).unwrap();
        assert!((0..7).all(|i| again.is_accepted(i)));
        assert!(!again.is_accepted(7) && again.is_accepted(10) && !again.is_accepted(11));
        assert_eq!(again.accepted.len(), 2);
        assert_eq!(again.previous_claimed, 20);
        assert!(again.check_input("other".into()).is_err());
        std::fs::write(&path, "nonsense").unwrap();
        assert!(Checkpoint::open(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
