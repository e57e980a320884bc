//! A test store: the in-memory one with hooks run before its calls, for
//! tests that watch, delay or fail what a caller does with its store.

use otlp2r2::store;
use otlp2r2::store::memory::Memory;

/// A test store: the in-memory one, with `hook` run before each list, get,
/// put, part upload and delete.
pub struct Hooked<'a, H> {
    /// The store the calls go to.
    pub inner: &'a Memory,
    /// What runs before them.
    pub hook: H,
}

/// What a [`Hooked`] store does before a call goes through (an error
/// fails the call).
#[allow(async_fn_in_trait)] // single-threaded tests: no Send bound wanted
pub trait Hooks {
    async fn before_get(
        &self,
        _inner: &Memory,
        _key: &str,
        _range: &Option<store::Range>,
    ) -> otlp2r2::Result<()> {
        Ok(())
    }

    async fn before_put(&self, _key: &str) -> otlp2r2::Result<()> {
        Ok(())
    }

    async fn before_list(&self, _prefix: &str) {}

    async fn before_upload(&self) {}

    async fn before_delete(&self, _inner: &Memory, _keys: &[String]) {}
}

impl<H: Hooks> store::Store for Hooked<'_, H> {
    async fn list(&self, prefix: &str, start: store::Start<'_>) -> otlp2r2::Result<store::Listing> {
        self.hook.before_list(prefix).await;
        self.inner.list(prefix, start).await
    }
    async fn get(
        &self,
        key: &str,
        range: Option<store::Range>,
    ) -> otlp2r2::Result<Option<Vec<u8>>> {
        self.hook.before_get(self.inner, key, &range).await?;
        self.inner.get(key, range).await
    }
    async fn head(&self, key: &str) -> otlp2r2::Result<Option<store::Meta>> {
        self.inner.head(key).await
    }
    async fn put(
        &self,
        key: &str,
        data: Vec<u8>,
        mode: store::PutMode,
    ) -> otlp2r2::Result<Option<store::Meta>> {
        self.hook.before_put(key).await?;
        self.inner.put(key, data, mode).await
    }
    async fn create_multipart(&self, key: &str) -> otlp2r2::Result<String> {
        self.inner.create_multipart(key).await
    }
    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: u16,
        data: Vec<u8>,
    ) -> otlp2r2::Result<store::Part> {
        self.hook.before_upload().await;
        self.inner.upload_part(key, upload_id, number, data).await
    }
    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<store::Part>,
    ) -> otlp2r2::Result<store::Meta> {
        self.inner.complete_multipart(key, upload_id, parts).await
    }
    async fn abort_multipart(&self, key: &str, upload_id: &str) -> otlp2r2::Result<()> {
        self.inner.abort_multipart(key, upload_id).await
    }
    async fn delete(&self, keys: &[String]) -> otlp2r2::Result<()> {
        self.hook.before_delete(self.inner, keys).await;
        self.inner.delete(keys).await
    }
}
