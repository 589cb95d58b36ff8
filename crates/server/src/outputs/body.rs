//! A file as a stream of chunks: how every download leaves the server, so a 5 GB image
//! never sits in memory. The stream is pulled as the client reads, so at most one chunk
//! per response is buffered here.

use std::io;

use axum::body::Bytes;
use futures::Stream;
use tokio::io::AsyncReadExt;

/// Bytes per read: big enough that a multi-gigabyte file is few reads, small enough
/// that many concurrent downloads stay cheap.
const CHUNK: usize = 256 * 1024;

/// Exactly `len` bytes of `file` from its current position. A file that ends early
/// fails the stream (the response was promised `len` bytes); bytes after `len` are not
/// read.
pub(crate) fn file_chunks(
    mut file: tokio::fs::File,
    len: u64,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    async_stream::try_stream! {
        let mut left = len;
        while left > 0 {
            let want = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
            let mut buf = vec![0u8; want];
            let n = file.read(&mut buf).await?;
            if n == 0 {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("file ended {left} bytes before its expected length of {len}"),
                ))?;
            }
            buf.truncate(n);
            left -= n as u64;
            yield Bytes::from(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use tokio::io::AsyncSeekExt;

    async fn collect(file: tokio::fs::File, len: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut chunks = std::pin::pin!(file_chunks(file, len));
        while let Some(chunk) = chunks.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn exactly_the_asked_bytes_are_streamed_and_a_short_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();

        let file = tokio::fs::File::open(&path).await.unwrap();
        assert_eq!(collect(file, data.len() as u64).await.unwrap(), data);

        let mut file = tokio::fs::File::open(&path).await.unwrap();
        file.seek(io::SeekFrom::Start(CHUNK as u64 - 3))
            .await
            .unwrap();
        let got = collect(file, 10).await.unwrap();
        assert_eq!(got, data[CHUNK - 3..CHUNK + 7]);

        let file = tokio::fs::File::open(&path).await.unwrap();
        let err = collect(file, data.len() as u64 + 1).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
