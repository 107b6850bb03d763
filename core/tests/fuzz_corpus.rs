//! Replays the fuzz regression corpora kept in `fuzz/regressions/` (every input that ever made
//! a target fail, the hand-written seeds, and a set-cover minimisation of the campaigns'
//! corpora: see `fuzz/README.md`) through the same checks as the fuzz targets
//! (`fuzz/fuzz_targets/`), so they stay regression tests.

use std::path::Path;

fn replay(dir: &str, check: fn(&[u8]) -> Result<(), String>) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fuzz").join("regressions").join(dir);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read");
        if let Err(why) = check(&data) {
            panic!("{}: {why}", path.display());
        }
        n += 1;
    }
    n
}

#[test]
fn response_corpus_holds() {
    let n = replay("response", partly::fuzzing::response_from_bytes);
    assert!(n >= 100, "only {n} inputs in the response corpus");
}

#[test]
fn inputs_corpus_holds() {
    let n = replay("inputs", partly::fuzzing::inputs);
    assert!(n >= 100, "only {n} inputs in the inputs corpus");
}
