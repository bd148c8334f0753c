// The platform-neutral library ("nix-imager"): config, plan and build, the format writers as streams
// over an image tree, the NAR reader and Nix formats, compressors, and the error vocabulary.
export { parseConfig, ConfigError } from './pipeline/config.ts';
export type { BuildConfig, IsoBuildConfig, TarballConfig, SquashfsConfig, ParseConfigOptions, ImageFormat, Compression, SquashfsCodec, Content, ContentSource, StoreContent, IsoConfig } from './pipeline/config.ts';
export { CONFIG_FIELDS, ISO_FIELDS, configHelp, fieldHint } from './pipeline/config-schema.ts';
export type { ConfigJson, ContentJson, FieldSpec, IsoJson, StoreContentJson } from './pipeline/config-schema.ts';
export { buildImage, planBuild } from './pipeline/build-image.ts';
export type { BuildOptions, BuildPlan, BuildSummary, PlanOptions } from './pipeline/build-image.ts';
export type { Progress, ProgressListener, Stage } from './pipeline/progress.ts';
export { platformWith } from './platform.ts';
export type { Platform, ScratchFile } from './platform.ts';

export { addPath, lookup, newDir, walk } from './image/tree.ts';
export type { ImageDir, ImageFile, ImageNode, ImageSymlink } from './image/tree.ts';
export { binaryToText, textToBinary } from './io/binary-string.ts';
export type { BinaryString } from './io/binary-string.ts';
export { bytesSource } from './io/data-source.ts';
export type { DataSource, RandomAccess } from './io/data-source.ts';
export type { ByteSink, SeekableSink } from './io/sink.ts';
export { tarStream } from './tar/tar-writer.ts';
export type { TarOptions } from './tar/tar-writer.ts';
export { isoStream } from './iso9660/iso-writer.ts';
export type { IsoOptions } from './iso9660/iso-options.ts';
export { writeSquashfs } from './squashfs/squashfs-writer.ts';
export type { SquashfsCompression, SquashfsOptions } from './squashfs/squashfs-writer.ts';
export { cpioStream } from './cpio/cpio-writer.ts';
export type { CpioOptions } from './cpio/cpio-writer.ts';

export { gzipCompressor } from './codec/gzip.ts';
export { xzCompressor } from './xz/xz-compressor.ts';
export { zstdCompressor } from './zstd/zstd.ts';
export type { StreamCompressor } from './codec/stream-compressor.ts';
export { codecsLoader, fetchedCodecs } from './codec/wasm-codecs.ts';
export type { CodecsLoader } from './codec/wasm-codecs.ts';
export type { CodecJob, CodecPool } from './codec/pool.ts';

export { readNar, narHashingTap, NarError } from './nix/nar-reader.ts';
export type { NarEntry } from './nix/nar-reader.ts';
export { parseNarInfo, NarInfoError } from './nix/narinfo.ts';
export type { NarInfo } from './nix/narinfo.ts';
export { nix32Decode, nix32Encode } from './nix/nix32.ts';
export { DEFAULT_STORE_DIR, parseStorePath, storePathOf, StorePathError } from './nix/store-path.ts';
export type { StorePath } from './nix/store-path.ts';
export { CACHE_NIXOS_ORG_KEY, parsePublicKey, verifyNarInfo } from './nix/signature.ts';
export type { Ed25519Verify, PublicKey } from './nix/signature.ts';
export { BinaryCache } from './cache/binary-cache.ts';
export type { Fetch } from './cache/http.ts';
export type { NarCache, NarCacheWriter } from './store/nar-cache.ts';

export { AbortedError, ERROR_HEADLINES, errorCode, fromErrorData, isAbort, NixImagerError, summarise, toErrorData } from './errors.ts';
export type { ErrorCode, ErrorData } from './errors.ts';
export { HttpError } from './cache/http.ts';
export { UnavailablePathsError } from './cache/resolve.ts';
export { NarVerificationError } from './store/nar-fetch.ts';
