//! Partition blocks of a written file: when the table has coarse partitions and a batch's rows
//! come clustered by them (compaction writes each file's rows partition by partition), the
//! primary column also gets a `PartitionBlocks` sub-section (AILK 1.1), and the file's shard
//! summary records where each block lies ([`BlockLayout`]) so a search reads only the blocks
//! of the partitions it probes.

use ailk_catalog::{BlockEntry, BlockLayout};
use ailk_format::{AlignedBytes, Payload, SectionDirectory, SubsectionKind};
use ailk_index::{BuiltBlocks, Partitions, SectionVectors};

use crate::error::{Result, WriterError};
use crate::policy::WritePolicy;
use crate::prepare::PreparedColumn;

/// The blocks of `primary` (as indexed) when the policy asks for them, the table has
/// `partitions`, the section keeps its vectors (re-ranking reads them) and the rows are
/// clustered; else `None`.
pub(crate) fn plan_blocks(
    policy: &WritePolicy,
    partitions: Option<&Partitions>,
    primary: &PreparedColumn,
) -> Result<Option<BuiltBlocks>> {
    let Some(p) = partitions.filter(|_| policy.partition_blocks) else { return Ok(None) };
    if policy.section_vectors != SectionVectors::F32 || primary.index_values.is_empty() {
        return Ok(None);
    }
    let assignment = p.assign(&primary.index_values);
    let dim = primary.spec.dim as usize;
    Ok(BuiltBlocks::build(
        &primary.index_values,
        dim,
        primary.spec.metric,
        &assignment,
        p.version,
        policy.block_code,
    )?)
}

/// Where `built`'s blocks and the primary column's raw vectors lie in a file whose section
/// (`section`, encoded) starts at byte `section_offset`.
pub(crate) fn block_layout(section: &[u8], section_offset: u64, built: &BuiltBlocks) -> Result<BlockLayout> {
    let dir = SectionDirectory::decode(section)?;
    let array_start = |kind: SubsectionKind, array: usize| -> Result<u64> {
        let entry = dir
            .find(kind, 0)
            .ok_or_else(|| WriterError::Internal(format!("the section lost its {kind:?}")))?;
        let bytes = &section[entry.offset as usize..(entry.offset + entry.length) as usize];
        let payload = Payload::decode(AlignedBytes::copy_from(bytes))?;
        Ok(section_offset + entry.offset + payload.array_offset(array)?)
    };
    let blocks_at = array_start(SubsectionKind::PartitionBlocks, 3)?;
    let vectors_offset = array_start(SubsectionKind::RawVectors, 0)?;
    let blocks = (0..built.partitions.len())
        .map(|b| BlockEntry {
            partition: built.partitions[b],
            row_start: built.row_starts[b],
            rows: built.row_starts[b + 1] - built.row_starts[b],
            offset: blocks_at + built.offsets[b],
            length: built.offsets[b + 1] - built.offsets[b],
        })
        .collect();
    Ok(BlockLayout {
        version: built.meta.partitions_version,
        seed: built.meta.seed,
        dim: built.meta.dim,
        padded: built.meta.padded,
        vectors_offset,
        blocks,
    })
}
