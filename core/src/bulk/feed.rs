//! A demand-driven feed: how a binding hands a bulk preload its language's iterator without
//! ever materialising it. The driver's [`FeedStream`] asks for more (`demand`) when it holds
//! `low_water` items or fewer; the binding answers each demand with exactly one
//! [`Feeder::push`] of the next items pulled from the language's iterator (on the language's
//! own thread), or [`Feeder::end`]. One demand is outstanding at a time, so at most
//! `low_water` + one chunk are buffered, whatever the input's length.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use super::BulkItem;

/// The end a binding pushes into.
#[derive(Clone, Debug)]
pub struct Feeder {
    tx: mpsc::UnboundedSender<Vec<BulkItem>>,
}

impl Feeder {
    /// Answers a demand with the next items (an empty chunk is the end of the input). `false`
    /// when the run is over and nobody reads any more.
    pub fn push(&self, chunk: Vec<BulkItem>) -> bool {
        self.tx.send(chunk).is_ok()
    }

    /// Answers a demand with the end of the input.
    pub fn end(&self) -> bool {
        self.push(Vec::new())
    }
}

/// The stream the driver reads; see the module docs.
pub struct FeedStream {
    rx: mpsc::UnboundedReceiver<Vec<BulkItem>>,
    buf: VecDeque<BulkItem>,
    demand: Arc<dyn Fn() + Send + Sync>,
    asked: bool,
    ended: bool,
    low_water: usize,
}

impl std::fmt::Debug for FeedStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedStream").field("buffered", &self.buf.len()).field("ended", &self.ended).finish()
    }
}

/// A feed: `demand` is called (on a runtime thread; it must only signal, not block) whenever
/// the stream wants the next chunk.
pub fn demand_feed(low_water: usize, demand: impl Fn() + Send + Sync + 'static) -> (Feeder, FeedStream) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stream =
        FeedStream { rx, buf: VecDeque::new(), demand: Arc::new(demand), asked: false, ended: false, low_water };
    (Feeder { tx }, stream)
}

impl futures_util::Stream for FeedStream {
    type Item = BulkItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BulkItem>> {
        let me = &mut *self;
        loop {
            if !me.asked && !me.ended && me.buf.len() <= me.low_water {
                me.asked = true;
                (me.demand)();
            }
            if let Some(item) = me.buf.pop_front() {
                return Poll::Ready(Some(item));
            }
            if me.ended {
                return Poll::Ready(None);
            }
            match me.rx.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    me.asked = false;
                    if chunk.is_empty() {
                        me.ended = true;
                    } else {
                        me.buf.extend(chunk);
                    }
                }
                Poll::Ready(None) => me.ended = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_demand_at_a_time_and_an_empty_chunk_ends_it() {
        let demands = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&demands);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (feeder, mut stream) = demand_feed(2, move || {
            d.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(());
        });
        let pusher = std::thread::spawn(move || {
            let mut next = 0;
            for _ in rx.iter() {
                if next >= 10 {
                    feeder.end();
                    break;
                }
                feeder.push((next..next + 5).map(|i| BulkItem::from(format!("V{i}"))).collect());
                next += 5;
            }
        });
        let mut got = Vec::new();
        while let Some(BulkItem::Identifier(id)) = stream.next().await {
            got.push(id);
        }
        pusher.join().unwrap();
        assert_eq!(got.len(), 10);
        assert_eq!(demands.load(Ordering::SeqCst), 3, "two chunks and the end");
    }
}
