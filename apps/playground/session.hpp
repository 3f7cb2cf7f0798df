#pragma once
/// \file The playground's model of one browser tab: a 2-D data set, a small fully connected network trained on it
/// with adgraph's modules and ops, and what the page draws (losses, weights, gradients, node heat maps).
/// Its data sets, features, initialisation, loss and update follow playground.tensorflow.org, so its quality
/// bounds can be compared with the original's. docs/playground.md describes it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <adgraph/nn/module.hpp>

namespace adg::playground {

/// A point of a data set: the inputs x1, x2 and the target, ±1 for classification or in [-1, 1] for regression.
/// Every data set but gauss keeps x1, x2 in [-domain, domain]; gauss draws two normal clouds and, as the original,
/// does not clamp them, so a few of its points (more with noise) lie outside the heat map's square.
struct Point {
    double x1 = 0;
    double x2 = 0;
    double label = 0;
};

/// What a data set asks the network for.
enum class Problem { classification, regression };

/// The data sets, classification first: circle, xor, gauss, spiral, then regression: plane, multigauss.
const std::vector<std::string>& dataset_names();

/// The problem `dataset` poses; value_error naming the known data sets for an unknown name.
Problem problem_of(const std::string& dataset);

/// `n` points of `dataset` with `noise` percent (0..50) of noise, drawn from `seed`, in the original's order
/// (shuffled once); the same arguments give the same points. value_error for an unknown data set or a noise
/// outside 0..50.
std::vector<Point> generate(const std::string& dataset, std::size_t n, double noise, std::uint64_t seed);

/// The input features, in the page's order: x1, x2, x1sq (x1²), x2sq (x2²), x1x2 (x1·x2), sinx1, sinx2.
const std::vector<std::string>& feature_names();

/// The value of feature `name` at (x1, x2); value_error for an unknown name.
double feature_value(const std::string& name, double x1, double x2);

/// Hidden layers at most, neurons per hidden layer at most (the original's limits).
inline constexpr std::size_t max_layers = 6;
inline constexpr std::size_t max_neurons = 8;
/// Heat maps cover [-domain, domain]² in both inputs, and so do the points of every data set but gauss.
inline constexpr double domain = 6;
/// Points a data set has: the original's 500 for classification and 1200 for regression.
inline constexpr std::size_t classification_points = 500;
inline constexpr std::size_t regression_points = 1200;

/// Everything the user sets on the page. The defaults are the original's first page.
struct Config {
    std::string dataset = "circle";                    ///< one of dataset_names()
    double noise = 0;                                  ///< percent, 0..50
    int train_percent = 50;                            ///< share of the points used for training, 10..90
    int batch_size = 10;                               ///< points per update, 1..30
    std::uint64_t seed = 1;                            ///< seeds the data and the initial weights
    std::vector<std::string> features = {"x1", "x2"};  ///< a non-empty subset of feature_names(), no repeats
    std::vector<std::size_t> layers = {4, 2};          ///< hidden layers: 0..max_layers of 1..max_neurons
    std::string activation = "tanh";                   ///< of the hidden layers: relu, tanh, sigmoid or linear
    double learning_rate = 0.03;                       ///< > 0 and ≤ 10
    std::string regularization = "none";               ///< none, l1 or l2 (on weights, not biases)
    double regularization_rate = 0;                    ///< 0..10

    /// Throws value_error naming the field, the value at fault and what is allowed.
    void validate() const;
};

/// Training and test loss: the mean over the points of ½(output − label)², without the regularisation term.
struct Losses {
    double train = 0;
    double test = 0;
};

/// Per layer l (0: first hidden layer, last: the output neuron), values of its weights (out × in, row-major, row
/// = the neuron receiving) and of its biases (out).
struct LayerValues {
    std::vector<std::vector<double>> weights;
    std::vector<std::vector<double>> biases;
};

/// One tab's data, network and optimiser state. Not thread-safe: the server locks a session per request.
class Session {
public:
    /// Validates `config` (value_error), draws its points from the seed (the first train_percent % train, the rest
    /// test), and builds the network with the original's initialisation from the seed: weights U(−0.5, 0.5),
    /// biases 0.1.
    explicit Session(Config config);
    ~Session();
    Session(Session&&) noexcept;
    Session& operator=(Session&&) noexcept;

    /// The configuration this session was built from.
    const Config& config() const;
    /// The training points, in training order.
    const std::vector<Point>& train_points() const;
    /// The test points.
    const std::vector<Point>& test_points() const;

    /// Epochs trained since construction or reset().
    std::size_t epoch() const;
    /// Trains `epochs` epochs. An epoch is one pass over the training points in order, in batches of batch_size
    /// (the last batch may be smaller); each batch takes one plain gradient step on its mean loss plus the
    /// regularisation rate times ½‖w‖² (l2) or ‖w‖₁ (l1, where a weight the penalty pushes across zero stops at
    /// zero and, as in the original, is not trained again until reset()). Never throws for a diverging network:
    /// its weights and losses become NaN or ±Inf.
    void step(std::size_t epochs = 1);
    /// The initial weights again (the same as after construction) and epoch 0; the points stay.
    void reset();

    /// Current training and test loss.
    Losses losses() const;
    /// Layer sizes from the input features to the output: {features, hidden..., 1}. The input nodes are the
    /// configured features in feature_names() order (whatever order Config::features lists them in).
    std::vector<std::size_t> layer_sizes() const;
    /// Current weights and biases.
    LayerValues parameters() const;
    /// Gradient of the training loss plus the regularisation term over all training points at the current
    /// weights, in the layout of parameters(), computed by one reverse sweep.
    LayerValues gradients() const;

    /// The value of every node on a `side` × `side` grid over [-domain, domain]², in one batched forward pass.
    /// Result[k] is node k's map, nodes in order: each input feature (in feature_names() order), each neuron of
    /// each hidden layer (after its activation), the output. Each map holds side × side values row by row, row 0 at
    /// x2 = +domain (the top of the picture), column 0 at x1 = −domain; cell centres are at ±domain·(1 − 1/side) at
    /// the edges. value_error unless side is in 1..1000.
    std::vector<std::vector<float>> node_maps(std::size_t side) const;

    /// The network as a module, e.g. for save_checkpoint: a float64 Sequential of Linear layers each followed by its
    /// activation module (Identity for "linear" and for a regression output, Tanh for a classification output), so
    /// layer l's parameters are "<2l>.weight" and "<2l>.bias". The session's own network: training changes it.
    std::shared_ptr<nn::Module> model() const;
    /// Strings describing the session for a checkpoint's metadata: "playground.<field>" for each Config field
    /// (features and layers comma-separated) and "playground.epoch".
    std::map<std::string, std::string> metadata() const;

private:
    struct State;
    std::unique_ptr<State> s_;
};

}  // namespace adg::playground
