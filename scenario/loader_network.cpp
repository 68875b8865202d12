#include "scenario/loader_parts.hpp"
#include "scenario/object_fields.hpp"

namespace scenario {
namespace {

const std::vector<std::string> kLinkKeys = {"latency", "loss", "duplicate", "bandwidth", "fifo"};

void read_link_params(ObjectFields& fields, LinkParams& out) {
  fields.get("latency", out.latency);
  fields.get("loss", out.loss);
  fields.get("duplicate", out.duplicate);
  fields.get("fifo", out.fifo);
  if (fields.has("bandwidth")) {
    std::string problem;
    if (!read_bandwidth(fields.at("bandwidth"), out.bandwidth_bps, problem))
      fields.problems().add(fields.path("bandwidth"), problem);
  }
}

Json write_link_params(const LinkParams& p) {
  Json out = {{"latency", write_value(p.latency)},
              {"loss", p.loss.value},
              {"duplicate", p.duplicate.value}};
  if (p.bandwidth_bps > 0) out["bandwidth"] = format_bandwidth(p.bandwidth_bps);
  out["fifo"] = p.fifo;
  return out;
}

// "zones": {"east": {"east": LINK, "west": LINK}, "west": {...}}: a full matrix of link params.
void read_zones(const Json& zones, const std::string& path, Problems& problems, NetworkSpec& out) {
  if (!zones.is_object() || zones.empty()) {
    problems.add(path, "expected an object {zone: {zone: link}} with one entry per zone, got " +
                           shown(zones));
    return;
  }
  for (const auto& [name, row] : zones.items()) out.zone_names.push_back(name);
  for (const auto& from : out.zone_names) {
    std::vector<LinkParams> row;
    const Json& entries = zones.at(from);
    ObjectFields to_fields(entries, path + "/" + from, problems, out.zone_names);
    for (const auto& to : out.zone_names) {
      LinkParams params;
      if (!to_fields.ok()) break;
      if (!to_fields.has(to.c_str())) {
        problems.add(path + "/" + from + "/" + to,
                     "missing: every pair of zones needs its link (latency, loss)");
      } else {
        ObjectFields link(to_fields.at(to.c_str()), path + "/" + from + "/" + to, problems,
                          kLinkKeys);
        if (link.ok()) read_link_params(link, params);
      }
      row.push_back(std::move(params));
    }
    out.zone_matrix.push_back(std::move(row));
  }
}

}  // namespace

void read_network(const Json& network, const std::string& path, Problems& problems,
                  NetworkSpec& out) {
  std::vector<std::string> keys = kLinkKeys;
  keys.insert(keys.end(), {"zones", "links", "switches"});
  ObjectFields fields(network, path, problems, keys);
  if (!fields.ok()) return;
  read_link_params(fields, out.default_link);
  if (fields.has("zones")) read_zones(fields.at("zones"), fields.path("zones"), problems, out);
  fields.get_names("switches", out.switches, false);
  if (fields.has("links")) {
    const Json& links = fields.at("links");
    if (!links.is_array()) {
      problems.add(fields.path("links"),
                   "expected a list of links {from, to, latency, ...}, got " + shown(links));
      return;
    }
    for (std::size_t i = 0; i < links.size(); ++i) {
      std::vector<std::string> link_keys = kLinkKeys;
      link_keys.insert(link_keys.end(), {"from", "to", "bidirectional"});
      ObjectFields link(links[i], fields.path("links") + "/" + std::to_string(i), problems,
                        link_keys);
      if (!link.ok()) continue;
      LinkDecl decl;
      link.get("from", decl.from, {}, true);
      link.get("to", decl.to, {}, true);
      link.get("bidirectional", decl.bidirectional);
      read_link_params(link, decl.params);
      out.links.push_back(std::move(decl));
    }
  }
}

Json write_network(const NetworkSpec& network) {
  Json out = write_link_params(network.default_link);
  if (!network.zone_names.empty()) {
    Json zones = Json::object();
    for (std::size_t i = 0; i < network.zone_names.size(); ++i)
      for (std::size_t j = 0; j < network.zone_names.size(); ++j)
        zones[network.zone_names[i]][network.zone_names[j]] =
            write_link_params(network.zone_matrix[i][j]);
    out["zones"] = std::move(zones);
  }
  if (!network.switches.empty()) out["switches"] = network.switches;
  if (!network.links.empty()) {
    Json links = Json::array();
    for (const auto& l : network.links) {
      Json entry = {{"from", l.from}, {"to", l.to}, {"bidirectional", l.bidirectional}};
      const Json params = write_link_params(l.params);
      for (const auto& [k, v] : params.items()) entry[k] = v;
      links.push_back(std::move(entry));
    }
    out["links"] = std::move(links);
  }
  return out;
}

}  // namespace scenario
