#include "adgraph/cli.hpp"

#include <cstdint>
#include <limits>
#include <ostream>

#include <CLI/CLI.hpp>

#include <adgraph/tensor/error.hpp>
#include <adgraph/tensor/parallel.hpp>

#include <adgraph/nn/model_spec.hpp>

#include "adgraph/evaluate.hpp"
#include "adgraph/option_table.hpp"
#include "adgraph/options.hpp"
#include "adgraph/playground_command.hpp"
#include "adgraph/ranks.hpp"
#include "adgraph/resume.hpp"
#include "adgraph/train.hpp"

namespace adg::cli {

namespace {

// The range of a recorded option: the table's (option_table.hpp), which --resume checks a checkpoint's values by.
const NumberRange& range_of(const char* option) { return *train_option(option).range; }

// True on the ranks other than 0 of an MPI job, which leave messages every rank would print alike to rank 0.
bool quiet_rank() { return detect_launch().rank != 0; }

void add_train_options(CLI::App& cmd, TrainOptions& o) {
    cmd.add_option("--model", o.model,
                   "model spec: MLP layer sizes (784-256-128-10), the preset cnn or gru, or a layer list (see below)")
        ->capture_default_str();
    cmd.add_option("--activation", o.activation, "MLP: relu, leaky_relu, tanh or sigmoid")->capture_default_str();
    add_number(cmd, "--dropout", o.dropout, "dropout after each hidden layer (layer lists: p of a bare 'dropout')",
               range_of("--dropout"));
    cmd.add_option("--init", o.init, "weight initialisation: uniform, xavier or he")->capture_default_str();
    cmd.add_option("--optimizer", o.optimizer, "sgd, adam or adamw")
        ->check(CLI::IsMember(train_option("--optimizer").choices))
        ->capture_default_str();
    add_number(cmd, "--lr", o.lr, "learning rate (peak of the schedule)", range_of("--lr"));
    add_number(cmd, "--momentum", o.momentum, "SGD momentum", range_of("--momentum"));
    cmd.add_flag("--nesterov", o.nesterov, "Nesterov momentum (sgd, with --momentum > 0)");
    add_number(cmd, "--weight-decay", o.weight_decay, "weight decay (decoupled for adamw)", range_of("--weight-decay"));
    cmd.add_option("--schedule", o.schedule, "learning-rate schedule: constant, step or cosine")->capture_default_str();
    add_number(cmd, "--warmup-epochs", o.warmup_epochs, "linear warm-up (cosine schedule), at most --epochs",
               range_of("--warmup-epochs"));
    add_number(cmd, "--epochs", o.epochs, "passes over the training set", range_of("--epochs"));
    add_number(cmd, "--clip-grad-norm", o.clip_grad_norm,
               "scale the gradients down to this global norm before each step when larger (0: never)",
               range_of("--clip-grad-norm"));
    add_number(cmd, "--batch", o.batch, "minibatch size (larger than the training set: one batch of all of it)",
               range_of("--batch"));
    add_number(cmd, "--seed", o.seed, "seed of initialisation, shuffling and dropout", range_of("--seed"));
    add_number(cmd, "--threads", o.threads, "threads for GEMMs and elementwise work (0: all cores)",
               whole_range(0, static_cast<std::uint64_t>(max_threads)));
    cmd.add_option("--data", o.data, "directory of the Fashion-MNIST IDX files")->capture_default_str();
    cmd.add_option("--out", o.out, "output directory")->capture_default_str();
    add_number(cmd, "--limit", o.limit, "use only the first N training and test images (smoke tests; 0: all)",
               range_of("--limit"));
    cmd.add_flag("!--no-plot", o.plot, "do not draw curves.png");
    cmd.add_option("--resume", o.resume,
                   "continue the run of this checkpoint (model.safetensors of adgraph train) up to --epochs; options "
                   "not given take the checkpoint's values, --out its directory. --epochs counts the whole run: "
                   "another value than the run's stretches the schedule, and the rate resumes at the new schedule's "
                   "value for that step (resume with the run's own --epochs to continue its curve)");
    cmd.footer(
        std::string("Model specs:\n"
                    "  784-256-128-10  an MLP: layer sizes joined by '-' (--activation after each hidden layer)\n"
                    "  cnn             the preset CNN: ") +
        nn::preset_layers("cnn") + "\n                  (its defaults: " + preset_defaults_text("cnn") +
        "; options given on the command line win)\n"
        "  gru             the preset GRU: " +
        nn::preset_layers("gru") +
        " (each image read as 28 steps of 28 pixels,\n"
        "                  classified from the GRU's last state; its defaults: " +
        preset_defaults_text("gru") +
        ")\n"
        "  layer list      layers joined by ',', applied to the images as (1, 28, 28):\n"
        "    conv<out>k<kernel>[s<stride>][p<padding>]  convolution with bias (e.g. conv32k3p1)\n"
        "    maxpool<k>[s<stride>][p<padding>]          max pooling (stride: k unless given)\n"
        "    avgpool<k>[s<stride>][p<padding>]          average pooling\n"
        "    bn                                         batch norm (BatchNorm2d on images, 1d on features)\n"
        "    relu, leaky_relu, tanh, sigmoid            activations\n"
        "    flatten                                    images (C, H, W) to features C*H*W\n"
        "    linear<out>                                fully connected layer\n"
        "    dropout[<p>]                               dropout (p: --dropout unless given)\n"
        "    res(<layers>)                              residual block x + f(x), f keeping the shape\n"
        "    rows                                       images (C, H, W) to sequences of H steps of C*W features\n"
        "    rnn<hidden>[x<layers>]                     tanh RNN over a sequence (T, F), giving (T, hidden)\n"
        "    gru<hidden>[x<layers>]                     GRU over a sequence (e.g. gru128x2: two stacked layers)\n"
        "    last                                       a sequence's last step: (T, F) to features F\n"
        "  e.g. --model conv16k3p1,bn,relu,res(conv16k3p1,bn,relu),maxpool2,flatten,linear10\n"
        "       --model rows,gru64x2,last,linear10\n"
        "  --init applies to the weights of both conv and linear layers (uniform is PyTorch's default); recurrent\n"
        "  layers always draw PyTorch's U(-1/sqrt(hidden), 1/sqrt(hidden)).");
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    CLI::App app{"adgraph: automatic differentiation in C++; trains an MLP, a CNN or a GRU on Fashion-MNIST"};
    app.name("adgraph");
    app.require_subcommand(1);

    TrainOptions train_options;
    CLI::App* train_cmd = app.add_subcommand(
        "train",
        "train an MLP, a CNN or a GRU (defaults: the best known setting; --model cnn: a CNN, --model gru: a GRU)");
    add_train_options(*train_cmd, train_options);

    std::string model_path, spec, data = nn::default_fashion_mnist_dir;
    std::size_t limit = 0, index = 0;
    CLI::App* eval_cmd = app.add_subcommand("eval", "test accuracy of a checkpoint");
    eval_cmd->add_option("--model", model_path, "checkpoint written by adgraph train")->required();
    eval_cmd->add_option("--spec", spec, "model spec (default: the one stored in the checkpoint)");
    eval_cmd->add_option("--data", data, "directory of the Fashion-MNIST IDX files")->capture_default_str();
    add_number(*eval_cmd, "--limit", limit, "use only the first N test images (0: all)", whole_range(0, max_count));

    CLI::App* predict_cmd = app.add_subcommand("predict", "classify one test image");
    predict_cmd->add_option("--model", model_path, "checkpoint written by adgraph train")->required();
    add_number(*predict_cmd, "--index", index, "test image number, from 0", whole_range(0, max_count), false)
        ->required();
    predict_cmd->add_option("--data", data, "directory of the Fashion-MNIST IDX files")->capture_default_str();

    std::string graph_spec = "784-256-128-10", graph_out;
    std::size_t graph_batch = 2;
    CLI::App* graph_cmd = app.add_subcommand("graph", "print the recorded graph of one training step as Graphviz DOT");
    graph_cmd->add_option("--spec", graph_spec, "model spec: MLP layer sizes, a preset (cnn, gru) or a layer list")
        ->capture_default_str();
    add_number(*graph_cmd, "--batch", graph_batch, "rows of the dummy batch", whole_range(1, max_count));
    graph_cmd->add_option("--out", graph_out, "write the DOT text to this file (default: stdout)");

    PlaygroundOptions playground_options;
    CLI::App* playground_cmd = app.add_subcommand(
        "playground",
        "the neural-network playground in a browser (a local web server), or headless with --steps/--png");
    add_playground_options(*playground_cmd, playground_options);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        out << app.help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        out << app.help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::ParseError& e) {
        // Under mpirun every rank parses the same arguments: one reports.
        if (!quiet_rank())
            err << "adgraph: " << e.what()
                << "\nRun 'adgraph --help' (or 'adgraph <command> --help') for the options.\n";
        return exit_usage;
    }

    const std::string command = app.get_subcommands().front()->get_name();
    // A model spec given on the command line is checked before anything is loaded, so a typo is a usage error.
    const auto check_spec = [](const std::string& option, const std::string& text) {
        try {
            nn::plan_model(text);
        } catch (const value_error& e) {
            throw UsageError{option + ": " + e.what()};
        }
    };
    try {
        // The server sets its own threads (one per request); the headless run uses the default one.
        if (playground_cmd->parsed()) return playground_command(*playground_cmd, playground_options, out);
        if (train_cmd->parsed()) {
            const auto given = [&](const std::string& option) { return train_cmd->count(option) > 0; };
            if (train_cmd->count("--resume") > 0) {
                if (train_options.resume.empty()) {
                    throw UsageError{"--resume: the path is empty; name a checkpoint written by adgraph train"};
                }
                try {
                    apply_resume_options(train_options, given);
                } catch (UsageError& e) {
                    // Each rank read its own copy of the checkpoint: a stale copy fails on its rank alone.
                    e.every_rank = true;
                    throw;
                }
            }
            // A resumed run's options all come from the command line or the checkpoint, never from a preset.
            apply_preset_defaults(train_options, [&](const std::string& option) {
                return given(option) || !train_options.resume.empty();
            });
            validate(train_options);
            return train(train_options, out, err);
        }
        // adgraph's threads (ADGRAPH_NUM_THREADS's count, else 1) rather than OpenBLAS's own, as train runs them:
        // OpenBLAS's workers are then never waited for (one stuck retrying its buffer's mmap under ulimit -v would
        // hang a GEMM), and the work buffers needed are one per thread of num_threads().
        set_num_threads(num_threads());
        if (eval_cmd->parsed()) {
            if (!spec.empty()) check_spec("--spec", spec);
            return eval_command(model_path, spec, data, limit, out);
        }
        if (graph_cmd->parsed()) {
            // Without --out the DOT text goes to stdout; an empty path is a mistake (e.g. an unset variable).
            if (graph_cmd->count("--out") > 0 && graph_out.empty()) {
                throw UsageError{"--out: the path is empty; name a file, or leave --out out to print to stdout"};
            }
            check_spec("--spec", graph_spec);
            return graph_command(graph_spec, graph_batch, graph_out, out);
        }
        return predict_command(model_path, data, index, out);
    } catch (const UsageError& e) {
        if (!quiet_rank() || e.every_rank) {
            err << "adgraph: " << rank_prefix(detect_launch()) << e.message << "\nRun 'adgraph " << command
                << " --help' for the options.\n";
        }
        return exit_usage;
    } catch (const std::exception& e) {
        err << "adgraph: error: " << e.what() << "\n";
        return exit_failure;
    }
}

}  // namespace adg::cli
