//! The cluster's state in an attachment's pinned maps: the slice
//! parameters in the config map (`cluster_*` fields), the next hop of each
//! instance in `slb_cluster`.

use std::path::Path;

use aya::maps::{Array, Map, MapData};

use crate::label_owner::ClusterParams;
use crate::program::{Config, NextHop, CLUSTER_MAP, CLUSTER_MAX, CONFIG_MAP};

/// The two pinned maps of one attachment, opened.
pub struct PinnedCluster {
    config: Array<MapData, Config>,
    hops: Array<MapData, NextHop>,
}

impl PinnedCluster {
    /// Opens the maps pinned in `dir`; the error says which and why.
    pub fn open(dir: &Path) -> Result<PinnedCluster, String> {
        let array = |name: &str| -> Result<MapData, String> {
            let path = dir.join(name);
            if !path.exists() {
                return Err(format!(
                    "no pinned map {} (attached by an slb-agent without clusters? attach again \
                     with --replace)",
                    path.display()
                ));
            }
            MapData::from_pin(&path).map_err(|e| format!("opening {}: {e}", path.display()))
        };
        let config = Array::try_from(Map::Array(array(CONFIG_MAP)?))
            .map_err(|e| format!("opening the pinned config map: {e}"))?;
        let hops = Array::try_from(Map::Array(array(CLUSTER_MAP)?))
            .map_err(|e| format!("opening the pinned cluster map: {e}"))?;
        Ok(PinnedCluster { config, hops })
    }

    fn config(&self) -> Result<Config, String> {
        self.config
            .get(&0, 0)
            .map_err(|e| format!("reading the config map: {e}"))
    }

    /// The slice parameters, None when no cluster is set.
    pub fn params(&self) -> Result<Option<ClusterParams>, String> {
        let c = self.config()?;
        Ok((c.cluster_instances != 0).then_some(ClusterParams {
            first_c2s: c.cluster_first_c2s,
            pairs_per_instance: c.cluster_pairs_per_instance,
            instances: c.cluster_instances,
        }))
    }

    /// Entries 0..n of the cluster map.
    pub fn next_hops(&self, n: u32) -> Result<Vec<NextHop>, String> {
        (0..n.min(CLUSTER_MAX))
            .map(|k| {
                self.hops
                    .get(&k, 0)
                    .map_err(|e| format!("reading the cluster map: {e}"))
            })
            .collect()
    }

    /// Makes the maps say `params` and `hops` (entry k for instance k, every
    /// later entry cleared), writing only what differs. Returns whether
    /// anything was written. The entries are written before the parameters
    /// when a cluster is set and after when it is removed, so the program
    /// never uses parameters with entries of another cluster.
    pub fn sync(
        &mut self,
        params: Option<ClusterParams>,
        hops: &[NextHop],
    ) -> Result<bool, String> {
        let mut wrote = false;
        if params.is_some() {
            wrote |= self.sync_hops(hops)?;
        }
        let mut c = self.config()?;
        let want = params.unwrap_or(ClusterParams {
            first_c2s: 0,
            pairs_per_instance: 0,
            instances: 0,
        });
        if (
            c.cluster_first_c2s,
            c.cluster_pairs_per_instance,
            c.cluster_instances,
        ) != (want.first_c2s, want.pairs_per_instance, want.instances)
        {
            c.cluster_first_c2s = want.first_c2s;
            c.cluster_pairs_per_instance = want.pairs_per_instance;
            c.cluster_instances = want.instances;
            self.config
                .set(0, c, 0)
                .map_err(|e| format!("writing the config map: {e}"))?;
            wrote = true;
        }
        if params.is_none() {
            wrote |= self.sync_hops(&[])?;
        }
        Ok(wrote)
    }

    fn sync_hops(&mut self, hops: &[NextHop]) -> Result<bool, String> {
        let mut wrote = false;
        for k in 0..CLUSTER_MAX {
            let want = hops.get(k as usize).copied().unwrap_or_default();
            let have = self
                .hops
                .get(&k, 0)
                .map_err(|e| format!("reading the cluster map: {e}"))?;
            if have != want {
                self.hops
                    .set(k, want, 0)
                    .map_err(|e| format!("writing the cluster map: {e}"))?;
                wrote = true;
            }
        }
        Ok(wrote)
    }
}
