//! Response bodies (normal and faulted) and the connection wrapper that lets a body
//! close its connection once what it wrote has been flushed.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Set by a faulted response: the connection closes at its next completed flush,
/// i.e. right after everything written so far has reached the socket.
pub(crate) type CloseFlag = Arc<AtomicBool>;

pub(crate) enum MockBody {
    /// A whole body (or none).
    Full(Option<Bytes>),
    /// `truncate`: announce `total` bytes, send `half`, then close.
    Truncate { half: Option<Bytes>, total: u64, close: CloseFlag },
    /// `trickle`: `chunk` bytes of `rest` after each `interval`.
    Trickle { rest: Bytes, chunk: usize, interval: Duration, sleep: Pin<Box<Sleep>> },
    /// `close_after`: the whole body, then close.
    CloseAfter { data: Option<Bytes>, close: CloseFlag },
}

impl MockBody {
    pub(crate) fn full(bytes: Bytes) -> MockBody {
        MockBody::Full(Some(bytes))
    }

    pub(crate) fn trickle(rest: Bytes, chunk: usize, interval: Duration) -> MockBody {
        MockBody::Trickle { rest, chunk: chunk.max(1), interval, sleep: Box::pin(tokio::time::sleep(interval)) }
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            MockBody::Full(data) => Poll::Ready(data.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Truncate { half, close, .. } => match half.take() {
                Some(half) => {
                    close.store(true, Ordering::Release);
                    if half.is_empty() {
                        // Nothing to send: the flush after the head closes the connection.
                        Poll::Pending
                    } else {
                        Poll::Ready(Some(Ok(Frame::data(half))))
                    }
                }
                // The connection closes at the flush that follows; never finish.
                None => Poll::Pending,
            },
            MockBody::Trickle { rest, chunk, interval, sleep } => {
                if rest.is_empty() {
                    return Poll::Ready(None);
                }
                ready!(sleep.as_mut().poll(cx));
                let n = (*chunk).min(rest.len());
                let piece = rest.split_to(n);
                sleep.as_mut().reset(Instant::now() + *interval);
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            MockBody::CloseAfter { data, close } => match data.take() {
                Some(d) => {
                    close.store(true, Ordering::Release);
                    Poll::Ready(Some(Ok(Frame::data(d))))
                }
                None => Poll::Ready(None),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(data) | MockBody::CloseAfter { data, .. } => data.as_ref().is_none_or(|b| b.is_empty()),
            MockBody::Truncate { .. } => false,
            MockBody::Trickle { rest, .. } => rest.is_empty(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(data) | MockBody::CloseAfter { data, .. } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |b| b.len() as u64))
            }
            MockBody::Truncate { total, .. } => SizeHint::with_exact(*total),
            MockBody::Trickle { rest, .. } => SizeHint::with_exact(rest.len() as u64),
        }
    }
}

/// A connection (TCP, or TLS over TCP) whose flush fails once its [`CloseFlag`] is set, which
/// makes hyper drop (close) the connection right after the bytes written so far were sent. With
/// an idle timeout, it also ends (reads as closed) when no byte of a next request arrives within
/// that time of the last flush: a server closing idle keep-alive connections.
pub(crate) struct FaultIo<S> {
    pub(crate) inner: S,
    pub(crate) close: CloseFlag,
    pub(crate) idle: Option<Duration>,
    /// Running from the last flush until a byte is read.
    pub(crate) idle_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> FaultIo<S> {
    pub(crate) fn new(inner: S, close: CloseFlag, idle: Option<Duration>) -> FaultIo<S> {
        FaultIo { inner, close, idle, idle_timer: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FaultIo<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.idle_timer = None;
                }
                Poll::Ready(r)
            }
            Poll::Pending => {
                // Idle for too long: read as closed, and hyper closes the connection.
                let expired = self.idle_timer.as_mut().is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
                if expired {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FaultIo<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        if let Some(idle) = self.idle {
            let deadline = Instant::now() + idle;
            match self.idle_timer.as_mut() {
                Some(timer) => timer.as_mut().reset(deadline),
                None => self.idle_timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
        }
        if self.close.load(Ordering::Acquire) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "partly-mock fault: closing the connection",
            )));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
