// The example ran twice (class path, module path), each converting the model from the jar it was given.
def log = new File(basedir, 'build.log').text
assert log.count('3 vectors of 384 floats') == 2 : 'the example printed its vectors on the class path and on the module path'
def sims = (log =~ /cat~kitten (-?[0-9.]+), cat~stocks (-?[0-9.]+)/).collect { [it[1] as double, it[2] as double] }
assert sims.size() == 2
sims.each { assert it[0] > it[1] + 0.2 : "related sentences are closer: ${it}" }
assert log.count("converting the default model (all-MiniLM-L6-v2 from the application's class or module path") == 2
true
